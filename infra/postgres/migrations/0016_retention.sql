-- Reserved on the db-roles branch only, so that 0017 applies (migrations are
-- numbered without gaps). The retention branch owns 0016 and replaces this file at merge.
SELECT 1;
