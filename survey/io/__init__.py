"""Data in and out: readers (SPSS, Stata, SAS, CSV, Excel, 问卷星 exports), writers, codebook
TOML files, and the file permissions of what the toolkit writes."""
