-- Back to the keys exactly as Django made them (no ON DELETE rule).
ALTER TABLE accounts_profile
    DROP CONSTRAINT accounts_profile_user_id_49a85d32_fk_auth_user_id,
    ADD CONSTRAINT accounts_profile_user_id_49a85d32_fk_auth_user_id
        FOREIGN KEY (user_id) REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED,
    DROP CONSTRAINT accounts_profile_role_id_22d0fb13_fk_accounts_role_id,
    ADD CONSTRAINT accounts_profile_role_id_22d0fb13_fk_accounts_role_id
        FOREIGN KEY (role_id) REFERENCES accounts_role (id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE accounts_usermetrics
    DROP CONSTRAINT accounts_usermetrics_profile_id_61fd0a05_fk_accounts_profile_id,
    ADD CONSTRAINT accounts_usermetrics_profile_id_61fd0a05_fk_accounts_profile_id
        FOREIGN KEY (profile_id) REFERENCES accounts_profile (id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE core_videoclip
    DROP CONSTRAINT core_videoclip_original_video_id_d526caa9_fk_core_videoasset_id,
    ADD CONSTRAINT core_videoclip_original_video_id_d526caa9_fk_core_videoasset_id
        FOREIGN KEY (original_video_id) REFERENCES core_videoasset (id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE exercises_exercise
    DROP CONSTRAINT exercises_exercise_created_by_id_52c1a29a_fk_auth_user_id,
    ADD CONSTRAINT exercises_exercise_created_by_id_52c1a29a_fk_auth_user_id
        FOREIGN KEY (created_by_id) REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED,
    DROP CONSTRAINT exercises_exercise_video_asset_id_55f3b158_fk_core_vide,
    ADD CONSTRAINT exercises_exercise_video_asset_id_55f3b158_fk_core_vide
        FOREIGN KEY (video_asset_id) REFERENCES core_videoasset (id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE comments_videocomment
    DROP CONSTRAINT comments_videocomment_author_id_f6a44fdc_fk_auth_user_id,
    ADD CONSTRAINT comments_videocomment_author_id_f6a44fdc_fk_auth_user_id
        FOREIGN KEY (author_id) REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED,
    DROP CONSTRAINT comments_videocommen_exercise_id_3739763d_fk_exercises,
    ADD CONSTRAINT comments_videocommen_exercise_id_3739763d_fk_exercises
        FOREIGN KEY (exercise_id) REFERENCES exercises_exercise (id) DEFERRABLE INITIALLY DEFERRED,
    DROP CONSTRAINT comments_videocommen_video_asset_id_7c4cf3bc_fk_core_vide,
    ADD CONSTRAINT comments_videocommen_video_asset_id_7c4cf3bc_fk_core_vide
        FOREIGN KEY (video_asset_id) REFERENCES core_videoasset (id) DEFERRABLE INITIALLY DEFERRED;
