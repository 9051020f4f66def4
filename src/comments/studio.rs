//! The review studio's data on a comment: drawings (telestration) on the
//! attempt it answers. The browser sends them as JSON; they are parsed
//! against a strict schema (unknown fields, unknown shapes and colours are
//! refused), bounded (drawings, shapes, points, label length, total size),
//! rounded, and stored one row per drawing in `comments_drawing` as the
//! canonical JSON of the parsed values, never as the text that came in.
//! Labels are plain text: markup is refused, and pages escape them anyway.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::comments_drawing;
use crate::db::{DbConn, Id, Json, Ts};

/// Drawings on one comment (each at its own moment of the video).
pub const MAX_DRAWINGS: usize = 12;
/// Shapes in one drawing.
pub const MAX_SHAPES: usize = 40;
/// Points of one freehand stroke (the browser thins strokes to fit).
pub const MAX_POINTS: usize = 400;
/// Characters of a text label.
pub const MAX_LABEL: usize = 80;
/// Bytes of the whole field as it arrives.
pub const MAX_BYTES: usize = 64 * 1024;
/// How long one drawing may show, in seconds of the video.
pub const MAX_SPAN: f64 = 600.0;

/// A point of the frame: `[x, y]`, each from 0 (left, top) to 1.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq)]
pub struct Point(pub f64, pub f64);

#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Red,
    Yellow,
    Green,
    Blue,
    White,
}

#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Shape {
    Line {
        colour: Colour,
        from: Point,
        to: Point,
    },
    Arrow {
        colour: Colour,
        from: Point,
        to: Point,
    },
    /// The ellipse inside the box with these corners (a circle in a square box).
    Ellipse {
        colour: Colour,
        from: Point,
        to: Point,
    },
    Freehand {
        colour: Colour,
        points: Vec<Point>,
    },
    /// The angle at `vertex` between the rays to `from` and to `to`; pages
    /// show its degrees (computed, never sent).
    Angle {
        colour: Colour,
        from: Point,
        vertex: Point,
        to: Point,
    },
    Text {
        colour: Colour,
        at: Point,
        text: String,
    },
}

/// One drawing: its shapes and when it shows (seconds of the video).
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Drawing {
    pub start: f64,
    pub end: f64,
    pub shapes: Vec<Shape>,
}

fn round(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

fn point(p: &mut Point) -> Result<(), String> {
    if !(p.0.is_finite() && p.1.is_finite() && (0.0..=1.0).contains(&p.0) && (0.0..=1.0).contains(&p.1)) {
        return Err("A drawing has a point outside the picture.".to_owned());
    }
    p.0 = round(p.0);
    p.1 = round(p.1);
    Ok(())
}

fn label(text: &mut String) -> Result<(), String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("A text label is empty.".to_owned());
    }
    if trimmed.chars().count() > MAX_LABEL {
        return Err(format!("A text label has more than {MAX_LABEL} characters."));
    }
    if trimmed.chars().any(|c| c == '<' || c == '>' || c.is_control()) {
        return Err("A text label is plain text: no < or > and no control characters.".to_owned());
    }
    *text = trimmed.to_owned();
    Ok(())
}

impl Shape {
    fn check(&mut self) -> Result<(), String> {
        match self {
            Shape::Line { from, to, .. } | Shape::Arrow { from, to, .. } | Shape::Ellipse { from, to, .. } => {
                point(from)?;
                point(to)
            }
            Shape::Freehand { points, .. } => {
                if points.len() < 2 || points.len() > MAX_POINTS {
                    return Err(format!("A freehand stroke has 2 to {MAX_POINTS} points."));
                }
                points.iter_mut().try_for_each(point)
            }
            Shape::Angle { from, vertex, to, .. } => {
                point(from)?;
                point(vertex)?;
                point(to)
            }
            Shape::Text { at, text, .. } => {
                point(at)?;
                label(text)
            }
        }
    }
}

/// Parses the `drawings` field: empty means none. `duration` is the video's
/// length in seconds when known. Errors are sentences for the form.
pub fn parse(raw: &str, duration: Option<f64>) -> Result<Vec<Drawing>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    if raw.len() > MAX_BYTES {
        return Err(format!(
            "The drawings are too large ({} KiB; at most {} KiB). Remove some shapes.",
            raw.len().div_ceil(1024),
            MAX_BYTES / 1024
        ));
    }
    let mut drawings: Vec<Drawing> =
        serde_json::from_str(raw).map_err(|_| "The drawings could not be read. Draw them again.".to_owned())?;
    if drawings.len() > MAX_DRAWINGS {
        return Err(format!("A reply holds at most {MAX_DRAWINGS} drawings."));
    }
    for drawing in &mut drawings {
        if drawing.shapes.is_empty() || drawing.shapes.len() > MAX_SHAPES {
            return Err(format!("A drawing has 1 to {MAX_SHAPES} shapes."));
        }
        let (start, end) = (drawing.start, drawing.end);
        if !(start.is_finite() && end.is_finite() && start >= 0.0 && end >= start && end - start <= MAX_SPAN) {
            return Err("A drawing's time is not a moment of the video.".to_owned());
        }
        if duration.is_some_and(|d| start > d + 0.5) {
            return Err("A drawing is placed after the end of the video.".to_owned());
        }
        drawing.start = (start * 1000.0).round() / 1000.0;
        drawing.end = (end * 1000.0).round() / 1000.0;
        drawing.shapes.iter_mut().try_for_each(Shape::check)?;
    }
    drawings.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(drawings)
}

/// A stored drawing.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = comments_drawing)]
pub struct DrawingRow {
    pub id: Id,
    pub comment_id: Id,
    pub video_id: Id,
    pub position: i32,
    pub start_time: f64,
    pub end_time: f64,
    pub shapes: Json,
    pub size_bytes: i32,
    pub created_at: Ts,
}

impl DrawingRow {
    /// The drawing as the player replays it (the stored, checked shapes).
    pub fn to_drawing(&self) -> Drawing {
        Drawing {
            start: self.start_time,
            end: self.end_time,
            shapes: serde_json::from_value(self.shapes.0.clone()).unwrap_or_default(),
        }
    }
}

/// Replaces a comment's drawings (inside the caller's transaction).
pub fn replace(conn: &mut DbConn, comment_id: Id, video_id: Id, drawings: &[Drawing]) -> QueryResult<()> {
    diesel::delete(comments_drawing::table.filter(comments_drawing::comment_id.eq(comment_id))).execute(conn)?;
    let now = Ts::now();
    for (position, drawing) in drawings.iter().enumerate() {
        let shapes = serde_json::to_value(&drawing.shapes).unwrap_or_default();
        let size = shapes.to_string().len();
        diesel::insert_into(comments_drawing::table)
            .values((
                comments_drawing::id.eq(Id::new()),
                comments_drawing::comment_id.eq(comment_id),
                comments_drawing::video_id.eq(video_id),
                comments_drawing::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                comments_drawing::start_time.eq(drawing.start),
                comments_drawing::end_time.eq(drawing.end),
                comments_drawing::shapes.eq(Json(shapes)),
                comments_drawing::size_bytes.eq(i32::try_from(size).unwrap_or(i32::MAX)),
                comments_drawing::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The drawings of these comments, in order, by comment: one query.
pub fn of_comments(conn: &mut DbConn, ids: &[Id]) -> QueryResult<HashMap<Id, Vec<DrawingRow>>> {
    let rows: Vec<DrawingRow> = comments_drawing::table
        .filter(comments_drawing::comment_id.eq_any(ids))
        .order((comments_drawing::comment_id.asc(), comments_drawing::position.asc()))
        .select(DrawingRow::as_select())
        .load(conn)?;
    let mut by_comment: HashMap<Id, Vec<DrawingRow>> = HashMap::new();
    for row in rows {
        by_comment.entry(row.comment_id).or_default().push(row);
    }
    Ok(by_comment)
}

/// "3 drawings", "a drawing".
pub fn describe(count: usize) -> String {
    match count {
        1 => "a drawing".to_owned(),
        n => format!("{n} drawings"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"type":"line","colour":"red","from":[0.1,0.2],"to":[0.3,0.4]}"#;

    fn one(shape: &str) -> String {
        format!(r#"[{{"start":1.5,"end":3,"shapes":[{shape}]}}]"#)
    }

    #[test]
    fn every_shape_parses_and_is_rounded() {
        let all = format!(
            r#"[{{"start":1.23456,"end":3,"shapes":[{LINE},
            {{"type":"arrow","colour":"yellow","from":[0,0],"to":[1,1]}},
            {{"type":"ellipse","colour":"green","from":[0.2,0.2],"to":[0.4,0.5]}},
            {{"type":"freehand","colour":"blue","points":[[0.1,0.1],[0.123456789,0.2]]}},
            {{"type":"angle","colour":"white","from":[0.1,0.5],"vertex":[0.5,0.5],"to":[0.5,0.1]}},
            {{"type":"text","colour":"red","at":[0.5,0.5],"text":"  Elbow up  "}}]}}]"#
        );
        let drawings = parse(&all, Some(10.0)).expect("valid");
        assert_eq!(drawings[0].start, 1.235);
        assert_eq!(drawings[0].shapes.len(), 6);
        match &drawings[0].shapes[3] {
            Shape::Freehand { points, .. } => assert_eq!(points[1], Point(0.1235, 0.2)),
            other => panic!("{other:?}"),
        }
        match &drawings[0].shapes[5] {
            Shape::Text { text, .. } => assert_eq!(text, "Elbow up"),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse("", None), Ok(Vec::new()));
    }

    #[test]
    fn anything_off_schema_is_refused() {
        for bad in [
            "not json".to_owned(),
            "{}".to_owned(),
            one(r#"{"type":"line","colour":"red","from":[0.1,0.2],"to":[0.3,0.4],"onclick":"x"}"#),
            one(r#"{"type":"script","colour":"red"}"#),
            one(r#"{"type":"line","colour":"pink","from":[0.1,0.2],"to":[0.3,0.4]}"#),
            one(r#"{"type":"line","colour":"red","from":[1.5,0.2],"to":[0.3,0.4]}"#),
            one(r#"{"type":"line","colour":"red","from":[0.1,0.2,0.3],"to":[0.3,0.4]}"#),
            one(r#"{"type":"freehand","colour":"red","points":[[0.1,0.2]]}"#),
            one(r#"{"type":"text","colour":"red","at":[0.1,0.2],"text":"<b>x</b>"}"#),
            one(r#"{"type":"text","colour":"red","at":[0.1,0.2],"text":"   "}"#),
            one(&format!(
                r#"{{"type":"text","colour":"red","at":[0.1,0.2],"text":"{}"}}"#,
                "a".repeat(81)
            )),
            r#"[{"start":1,"end":2,"shapes":[]}]"#.to_owned(),
            format!(r#"[{{"start":-1,"end":2,"shapes":[{LINE}]}}]"#),
            format!(r#"[{{"start":3,"end":2,"shapes":[{LINE}]}}]"#),
            format!(r#"[{{"start":1,"end":2,"shapes":[{LINE}],"extra":1}}]"#),
            format!(r#"[{{"start":20,"end":21,"shapes":[{LINE}]}}]"#),
            format!(
                "[{}]",
                vec![format!(r#"{{"start":1,"end":2,"shapes":[{LINE}]}}"#); 13].join(",")
            ),
            one(&vec![LINE; 41].join(",")),
        ] {
            assert!(parse(&bad, Some(10.0)).is_err(), "{bad}");
        }
        let huge = one(&format!(
            r#"{{"type":"freehand","colour":"red","points":[{}]}}"#,
            vec!["[0.123456789,0.123456789]"; 3000].join(",")
        ));
        assert!(parse(&huge, None).expect_err("too large").contains("too large"));
    }
}
