\set c random(1, 100)
BEGIN;
UPDATE conv SET seq = seq + 1, last = now() WHERE id = :c RETURNING seq;
INSERT INTO msg_nofk (conv_id, seq, body) VALUES (:c, 1, 'x');
COMMIT;
