"""The floor's two tables: a progress row per execution and a row per completed step."""

SCHEMA = """
CREATE TABLE floor_execution (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shape text NOT NULL,
    width integer NOT NULL,
    steps_done integer NOT NULL DEFAULT 0,
    branches_left integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz
);
CREATE TABLE floor_step (
    execution_id bigint NOT NULL REFERENCES floor_execution (id),
    step integer NOT NULL,
    worker integer NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (execution_id, step)
);
"""

INSERT_EXECUTION = "INSERT INTO floor_execution (shape, width, branches_left) VALUES ($1, $2, $3) RETURNING id"

# One UPDATE per step; a fan-out branch decrements the join counter in the same statement.
ADVANCE = "UPDATE floor_execution SET steps_done = steps_done + 1 WHERE id = $1"
ADVANCE_BRANCH = (
    "UPDATE floor_execution SET steps_done = steps_done + 1, branches_left = branches_left - 1 "
    "WHERE id = $1 RETURNING branches_left"
)
FINISH = "UPDATE floor_execution SET steps_done = steps_done + 1, finished_at = clock_timestamp() WHERE id = $1"
RECORD_STEP = "INSERT INTO floor_step (execution_id, step, worker) VALUES ($1, $2, $3)"

FINISHED = (
    "SELECT id, steps_done, extract(epoch FROM finished_at)::float8 AS finished "
    "FROM floor_execution WHERE finished_at IS NOT NULL AND id = ANY($1::bigint[])"
)
