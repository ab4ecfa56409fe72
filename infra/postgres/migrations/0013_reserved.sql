-- Reserved for issue 18's migration 0013 (search), on another branch. This
-- placeholder only keeps the numbering gap-free on this branch; that
-- branch's 0013 replaces it when both are merged.
SELECT 1;
