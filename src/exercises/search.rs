//! Exercise search: every word must match, in any order, ignoring case and
//! accents, best matches first (a word in the name counts more than one in
//! the description). PostgreSQL answers from the GIN index on the generated
//! `search_vector` column, SQLite from the FTS5 table `exercises_exercise_fts`
//! (both made by the migration `2026-12-01-600002_exercise_search`).
//!
//! The query language is the web-search one (as `websearch_to_tsquery`
//! reads it) on both backends: words, `"quoted phrases"`, `or` between
//! alternatives and `-word` to exclude. Each word also matches as the start
//! of a word, so that "arpeg" finds "Arpeggios" as the old substring search
//! did. What the user typed is parsed here once and written out for each
//! backend (a `tsquery`, an FTS5 query), so the two find the same rows and
//! nothing typed is ever read as syntax.

use diesel::dsl::{sql, AsExprOf};
use diesel::expression::{SqlLiteral, UncheckedBind};
use diesel::sql_types::{Bool, Double, Text};

use crate::db::Backend;

/// A raw SQL fragment with the query string bound once.
pub type Fragment<ST> = SqlLiteral<ST, UncheckedBind<SqlLiteral<ST>, AsExprOf<String, Text>>>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// One word or a phrase: its words, in order.
    Words(Vec<String>),
    Not(Vec<String>),
}

/// A parsed search: alternatives (`or`), each a list of terms that must
/// all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    groups: Vec<Vec<Term>>,
}

/// The words of a piece of text, as the indexes split them: runs of letters
/// and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Query {
    /// `None` when nothing searchable was typed (only spaces or signs).
    pub fn parse(input: &str) -> Option<Query> {
        let mut groups: Vec<Vec<Term>> = vec![Vec::new()];
        let mut chars = input.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let negated = c == '-';
            if negated {
                chars.next();
            }
            let token: String = if chars.peek() == Some(&'"') {
                chars.next();
                let phrase: String = chars.by_ref().take_while(|&c| c != '"').collect();
                phrase
            } else {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '"' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                if !negated && word.eq_ignore_ascii_case("or") {
                    if groups.last().is_some_and(|g| !g.is_empty()) {
                        groups.push(Vec::new());
                    }
                    continue;
                }
                word
            };
            let found = words(&token);
            if found.is_empty() {
                continue;
            }
            let group = groups.last_mut().expect("there is always a group");
            group.push(if negated { Term::Not(found) } else { Term::Words(found) });
        }
        // A group needs something to find: "-word" alone cannot be
        // answered from an index (FTS5 has no unary NOT), so it is dropped.
        groups.retain(|g| g.iter().any(|t| matches!(t, Term::Words(_))));
        (!groups.is_empty()).then_some(Query { groups })
    }

    /// For `to_tsquery`: `'a':* & 'b':* & !'c':* | 'd' <-> 'e':*`. Words
    /// are letters and digits only, so quoting them is enough.
    pub fn tsquery(&self) -> String {
        let phrase = |w: &[String]| {
            let quoted: Vec<String> = w.iter().map(|w| format!("'{w}'")).collect();
            format!("{}:*", quoted.join(" <-> "))
        };
        self.write(" & ", " | ", |term| match term {
            Term::Words(w) => phrase(w),
            Term::Not(w) => format!("!({})", phrase(w)),
        })
    }

    /// For FTS5 `MATCH`: every word quoted, `"a"* "b"* NOT "c"* OR "d e"*`.
    /// Positive terms come first in each group because FTS5's NOT is binary.
    pub fn fts5(&self) -> String {
        let mut sorted = self.clone();
        for group in &mut sorted.groups {
            group.sort_by_key(|t| matches!(t, Term::Not(_)));
        }
        sorted.write(" ", " OR ", |term| match term {
            Term::Words(w) => format!("\"{}\"*", w.join(" ")),
            Term::Not(w) => format!("NOT \"{}\"*", w.join(" ")),
        })
    }

    fn write(&self, and: &str, or: &str, term: impl Fn(&Term) -> String) -> String {
        self.groups
            .iter()
            .map(|g| g.iter().map(&term).collect::<Vec<_>>().join(and))
            .collect::<Vec<_>>()
            .join(or)
    }
}

/// The condition "this exercise matches", for a query on `exercises_exercise`.
pub fn matches(backend: Backend, query: &Query) -> Fragment<Bool> {
    match backend {
        Backend::Postgres => sql::<Bool>("exercises_exercise.search_vector @@ to_tsquery('simple', practika_unaccent(")
            .bind::<Text, _>(query.tsquery())
            .sql("))"),
        Backend::Sqlite => sql::<Bool>(
            "exercises_exercise.rowid IN (SELECT rowid FROM exercises_exercise_fts WHERE exercises_exercise_fts MATCH ",
        )
        .bind::<Text, _>(query.fts5())
        .sql(")"),
    }
}

/// How well an exercise matches: higher is better. Only meaningful on the
/// rows [`matches`] keeps.
pub fn rank(backend: Backend, query: &Query) -> Fragment<Double> {
    match backend {
        Backend::Postgres => {
            sql::<Double>("ts_rank(exercises_exercise.search_vector, to_tsquery('simple', practika_unaccent(")
                .bind::<Text, _>(query.tsquery())
                .sql(")))::float8")
        }
        // bm25 is lower for better matches; names weigh ten times descriptions.
        Backend::Sqlite => sql::<Double>(
            "(SELECT -bm25(exercises_exercise_fts, 10.0, 1.0) FROM exercises_exercise_fts \
             WHERE exercises_exercise_fts MATCH ",
        )
        .bind::<Text, _>(query.fts5())
        .sql(" AND exercises_exercise_fts.rowid = exercises_exercise.rowid)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_any_order_each_quoted() {
        let q = Query::parse("  Forehand   X ").expect("query");
        assert_eq!(q.tsquery(), "'Forehand':* & 'X':*");
        assert_eq!(q.fts5(), "\"Forehand\"* \"X\"*");
    }

    #[test]
    fn phrases_alternatives_and_exclusions() {
        let q = Query::parse("-slow \"top spin\" or serve").expect("query");
        assert_eq!(q.tsquery(), "!('slow':*) & 'top' <-> 'spin':* | 'serve':*");
        assert_eq!(q.fts5(), "\"top spin\"* NOT \"slow\"* OR \"serve\"*");
    }

    #[test]
    fn syntax_typed_by_the_user_is_only_words() {
        let q = Query::parse("a*b NEAR(c) \"\" ^d:").expect("query");
        assert_eq!(q.fts5(), "\"a b\"* \"NEAR c\"* \"d\"*");
        assert_eq!(Query::parse("l'été").expect("query").tsquery(), "'l' <-> 'été':*");
        assert_eq!(Query::parse(" - \"\" & or "), None);
        assert_eq!(Query::parse("-only"), None);
        assert_eq!(Query::parse("or or x or").expect("query").tsquery(), "'x':*");
    }
}
