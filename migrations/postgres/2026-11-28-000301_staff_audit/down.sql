DROP TABLE staff_auditentry;
