"""The core every package stands on: the data model and migrations, database sessions and the
unit of work, configuration, clock, audit writer, refusal base, and the rules (core/rules/).
Imports nothing of the project but matching; no Flask."""
