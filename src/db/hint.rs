//! Planner hints that only one backend needs.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;
use diesel::QueryResult;

use super::MultiBackend;

/// `likely(condition)` on SQLite, the bare condition on PostgreSQL.
///
/// SQLite's statistics give one average number of rows per value of an
/// index's column, so `parent_id IS NULL` (every attempt: most of the
/// table) looks as selective as one parent's replies, and the planner walks
/// every attempt through a parent index instead of reading the small
/// partial index of waiting attempts. `likely()` tells it the condition
/// holds for most rows; the condition itself, and the partial indexes it
/// implies, are unchanged. PostgreSQL counts the NULLs and needs no hint.
pub fn likely<T: Expression<SqlType = Bool>>(condition: T) -> Likely<T> {
    Likely(condition)
}

#[derive(Debug, Clone, Copy, QueryId, ValidGrouping)]
pub struct Likely<T>(T);

impl<T: Expression<SqlType = Bool>> Expression for Likely<T> {
    type SqlType = Bool;
}

impl<T: AppearsOnTable<QS>, QS: ?Sized> AppearsOnTable<QS> for Likely<T> where Likely<T>: Expression {}

impl<T: SelectableExpression<QS>, QS: ?Sized> SelectableExpression<QS> for Likely<T> where Likely<T>: AppearsOnTable<QS> {}

impl<T: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for Likely<T> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        if matches!(pass.backend(), MultiBackend::Sqlite(_)) {
            pass.push_sql("likely(");
            self.0.walk_ast(pass.reborrow())?;
            pass.push_sql(")");
            Ok(())
        } else {
            self.0.walk_ast(pass)
        }
    }
}
