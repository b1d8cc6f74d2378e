"""Files people open: XLSX tables, DOCX reports, charts and maps."""
