"""PostgreSQL guards of the ledger (no-op on SQLite, where the model layer is the guard).

- Entries are immutable: UPDATE and DELETE on mannes_entry raise.
- Postings are immutable, except the one move the services make: status posted → reversed
  with every other column unchanged.
- Each posting sums to zero per currency: a deferred constraint trigger re-adds the
  entries of the posting and currency at commit (a CHECK constraint sees only one row).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION mannes_entry_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'mannes: ledger entries are immutable (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mannes_entry_immutable
    BEFORE UPDATE OR DELETE ON mannes_entry
    FOR EACH ROW EXECUTE FUNCTION mannes_entry_immutable();

CREATE OR REPLACE FUNCTION mannes_transaction_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'posted' AND NEW.status = 'reversed'
       AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'mannes: ledger postings are immutable (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mannes_transaction_immutable
    BEFORE UPDATE OR DELETE ON mannes_transaction
    FOR EACH ROW EXECUTE FUNCTION mannes_transaction_immutable();

CREATE OR REPLACE FUNCTION mannes_posting_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total FROM mannes_entry
        WHERE transaction_id = NEW.transaction_id AND currency = NEW.currency;
    IF total <> 0 THEN
        RAISE EXCEPTION 'mannes: posting % does not sum to zero in % (%)',
            NEW.transaction_id, NEW.currency, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER mannes_posting_balanced
    AFTER INSERT ON mannes_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION mannes_posting_balanced();
"""

REVERSE = """
DROP TRIGGER IF EXISTS mannes_posting_balanced ON mannes_entry;
DROP FUNCTION IF EXISTS mannes_posting_balanced();
DROP TRIGGER IF EXISTS mannes_transaction_immutable ON mannes_transaction;
DROP FUNCTION IF EXISTS mannes_transaction_immutable();
DROP TRIGGER IF EXISTS mannes_entry_immutable ON mannes_entry;
DROP FUNCTION IF EXISTS mannes_entry_immutable();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("mannes", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
