DROP INDEX comments_videocomment_replies_idx;
CREATE INDEX comments_videocomment_replies_idx ON comments_videocomment (parent_id, created_at);
CREATE INDEX comments_videocomment_parent_id ON comments_videocomment (parent_id);
