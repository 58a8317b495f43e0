"""Reports and exports (issue 6): pandas-free streaming tables in CSV, XLSX, Parquet and JSON,
charts for the trends. ``app.reports.services`` is the interface the API, the CLI and the web
pages share; ``docs/reports.md`` describes every report."""
