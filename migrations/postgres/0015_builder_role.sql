-- The pipeline builder role (`builder`): writes, runs and schedules pipelines, and enters no costs.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('viewer', 'marketer', 'builder', 'admin'));
