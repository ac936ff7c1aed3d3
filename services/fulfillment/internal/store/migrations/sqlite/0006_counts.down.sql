DROP TABLE count_lines;
DROP TABLE count_tasks;
DROP TABLE counts;
