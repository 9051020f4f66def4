DROP TABLE comments_export;
