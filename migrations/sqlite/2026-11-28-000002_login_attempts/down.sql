DROP TABLE accounts_loginattempt;
