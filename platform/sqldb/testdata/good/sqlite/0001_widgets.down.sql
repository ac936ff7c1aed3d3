DROP TABLE parts;
DROP TABLE widgets;
