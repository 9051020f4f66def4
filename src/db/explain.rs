//! `EXPLAIN` of a query built with diesel, so that tests can check the plan
//! of the very statement a page runs (not a copy of its SQL).

use diesel::backend::Backend as DieselBackend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::sql_types::Text;
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

/// The plan PostgreSQL chooses for `query`, one line per row. SQLite's
/// `EXPLAIN QUERY PLAN` has another shape and is not read here.
pub fn plan<Q>(conn: &mut DbConn, query: Q) -> QueryResult<Vec<String>>
where
    Q: QueryFragment<MultiBackend> + QueryId,
{
    if !matches!(conn, DbConn::Pg(_)) {
        return Err(Error::QueryBuilderError(
            "query plans are read on PostgreSQL only".into(),
        ));
    }
    Explain(query).load(conn)
}
