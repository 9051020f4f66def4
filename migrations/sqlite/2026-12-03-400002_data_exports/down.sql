DROP TABLE exports_dataexport;
