-- Reserved for the coordinator's migration 0012 (issue 18's branch numbers its
-- own 0013). This placeholder only keeps the numbering gap-free on this branch;
-- the coordinator's 0012 replaces it when the branch is merged.
SELECT 1;
