"""Tables 1–5 and Figure 5: specs, the paper's values, and renderers (md/tex/csv)."""

from eval.tables.specs import TABLES, Column, Row, TableSpec, get_table

__all__ = ["TABLES", "Column", "Row", "TableSpec", "get_table"]
