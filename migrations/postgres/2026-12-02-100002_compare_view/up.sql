-- The comparison a reply keeps, besides its offset: which videos were
-- mirrored ('demo', 'attempt' or 'both') and, when the attempt was laid
-- over the demonstration, its opacity (0 to 1). NULL, as in every row the
-- Django app writes: not mirrored, side by side.
ALTER TABLE comments_videocomment
    ADD COLUMN compare_mirror varchar(10) NULL,
    ADD COLUMN compare_overlay double precision NULL;
ALTER TABLE comments_videocomment
    ADD CONSTRAINT comments_videocomment_compare_mirror_check
        CHECK (compare_mirror IS NULL OR compare_mirror IN ('demo', 'attempt', 'both')),
    ADD CONSTRAINT comments_videocomment_compare_overlay_check
        CHECK (compare_overlay IS NULL OR (compare_overlay >= 0 AND compare_overlay <= 1));
