-- unipoints schema, version 17: the service desk. A ticket is an inquiry, suggestion or complaint,
-- optionally about a member; severity sets its response deadline (major 4 h, normal 12 h from
-- opening); the key that opened it owns it to the end; every change is an event in its history.
CREATE TABLE tickets (
  tenant_id    bigint NOT NULL REFERENCES tenants (id),
  id           bigint GENERATED ALWAYS AS IDENTITY,
  member_id    bigint,
  kind         text NOT NULL CHECK (kind IN ('inquiry', 'suggestion', 'complaint')),
  severity     text NOT NULL CHECK (severity IN ('major', 'normal')),
  subject      text NOT NULL,
  body         text NOT NULL,
  channel      text NOT NULL,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
  owner_key_id bigint NOT NULL,
  repeat_count integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL,
  due_at       timestamptz NOT NULL,
  responded_at timestamptz,  -- the first change or note after opening: the deadline is for this
  resolved_at  timestamptz,
  closed_at    timestamptz,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX tickets_status ON tickets (tenant_id, status, id);
CREATE INDEX tickets_member ON tickets (tenant_id, member_id, id) WHERE member_id IS NOT NULL;

CREATE TABLE ticket_events (
  tenant_id bigint NOT NULL,
  ticket_id bigint NOT NULL,
  seq       bigint GENERATED ALWAYS AS IDENTITY,
  at        timestamptz NOT NULL,
  key_id    bigint NOT NULL,
  kind      text NOT NULL CHECK (kind IN ('opened', 'status', 'note', 'repeat_contact')),
  status    text,
  note      text,
  PRIMARY KEY (tenant_id, ticket_id, seq),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE TRIGGER ticket_events_insert_only BEFORE UPDATE OR DELETE ON ticket_events
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
