DROP TABLE issue_corrections;
