//! `EXPLAIN` of a query built with diesel, so that tests can check the plan
//! of the very statement a page runs (not a copy of its SQL).

use diesel::backend::Backend as DieselBackend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};
use diesel::{QueryResult, RunQueryDsl};

use super::{DbConn, MultiBackend};

/// `EXPLAIN <query>`: one text row per plan line (PostgreSQL).
#[derive(Debug, Clone)]
pub struct Explain<Q>(pub Q);

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl<Q: QueryFragment<DB>, DB: DieselBackend> QueryFragment<DB> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        pass.push_sql("EXPLAIN ");
        self.0.walk_ast(pass.reborrow())
    }
}

impl<Q, C> RunQueryDsl<C> for Explain<Q> {}

/// `EXPLAIN QUERY PLAN <query>`: SQLite's rows (id, parent, unused, detail).
#[derive(Debug, Clone)]
pub struct ExplainQueryPlan<Q>(pub Q);

impl<Q> QueryId for ExplainQueryPlan<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for ExplainQueryPlan<Q> {
    type SqlType = (Integer, Integer, Integer, Text);
}

impl<Q: QueryFragment<DB>, DB: DieselBackend> QueryFragment<DB> for ExplainQueryPlan<Q> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        pass.push_sql("EXPLAIN QUERY PLAN ");
        self.0.walk_ast(pass.reborrow())
    }
}

impl<Q, C> RunQueryDsl<C> for ExplainQueryPlan<Q> {}

/// The plan the database chooses for `query`, one line per step: the lines
/// of PostgreSQL's `EXPLAIN`, or the `detail` column of SQLite's
/// `EXPLAIN QUERY PLAN` (`SCAN t`, `SEARCH t USING INDEX i (a=?)`, …).
pub fn plan<Q>(conn: &mut DbConn, query: Q) -> QueryResult<Vec<String>>
where
    Q: QueryFragment<MultiBackend> + QueryId,
{
    if matches!(conn, DbConn::Pg(_)) {
        Explain(query).load(conn)
    } else {
        let rows: Vec<(i32, i32, i32, String)> = ExplainQueryPlan(query).load(conn)?;
        Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
    }
}
