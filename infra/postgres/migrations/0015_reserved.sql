-- Reserved on the retention branch only, so that 0016 applies (migrations are
-- numbered without gaps). The branch that owns 0015 replaces this file at merge.
SELECT 1;
