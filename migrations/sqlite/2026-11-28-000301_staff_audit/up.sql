-- The staff audit log; see the PostgreSQL migration of the same name.
CREATE TABLE staff_auditentry (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    actor_id integer NULL REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    action varchar(64) NOT NULL,
    object_type varchar(64) NOT NULL,
    object_id varchar(64) NOT NULL,
    object_repr varchar(200) NOT NULL,
    changes text NOT NULL CHECK ((JSON_VALID(changes) OR changes IS NULL)),
    created_at datetime NOT NULL
);
CREATE INDEX staff_auditentry_object_idx ON staff_auditentry (object_type, object_id);
CREATE INDEX staff_auditentry_created_at_idx ON staff_auditentry (created_at);
CREATE INDEX staff_auditentry_actor_id_idx ON staff_auditentry (actor_id);
