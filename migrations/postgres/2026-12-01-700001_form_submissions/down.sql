DROP TABLE accounts_formsubmission;
