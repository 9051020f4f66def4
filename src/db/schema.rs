//! The tables, portable across both backends (see `types.rs` for the three
//! column types that differ). Django's names throughout.

diesel::table! {
    use diesel::sql_types::{Bool, Integer, Nullable, Varchar};
    use crate::db::types::sql::UtcTime;

    auth_user (id) {
        id -> Integer,
        password -> Varchar,
        last_login -> Nullable<UtcTime>,
        is_superuser -> Bool,
        username -> Varchar,
        first_name -> Varchar,
        last_name -> Varchar,
        email -> Varchar,
        is_staff -> Bool,
        is_active -> Bool,
        date_joined -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::UtcTime;

    accounts_betainvitation (id) {
        id -> BigInt,
        email -> Varchar,
        token -> Varchar,
        accepted_at -> Nullable<UtcTime>,
        role -> Varchar,
        invited_by_id -> Nullable<Integer>,
        accepted_by_id -> Nullable<Integer>,
        created_at -> UtcTime,
        expires_at -> UtcTime,
        revoked_at -> Nullable<UtcTime>,
        last_sent_at -> Nullable<UtcTime>,
        send_count -> Integer,
        last_send_error -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Varchar};

    accounts_role (id) {
        id -> BigInt,
        name -> Varchar,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Bool, Integer, Nullable};
    use crate::db::types::sql::{Jsonb, UtcTime};

    accounts_profile (id) {
        id -> BigInt,
        email_verified_at -> Nullable<UtcTime>,
        onboarding_completed -> Bool,
        first_login_at -> Nullable<UtcTime>,
        last_activity_at -> Nullable<UtcTime>,
        preferences -> Jsonb,
        user_id -> Integer,
        role_id -> Nullable<BigInt>,
        /// Added by Practika (2026-12-01-400002): this user's storage quota
        /// in MiB; NULL: the site's default.
        storage_quota_mb -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer};

    accounts_usermetrics (id) {
        id -> BigInt,
        exercises_created -> Integer,
        comments_made -> Integer,
        total_video_time -> Integer,
        profile_id -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Bool, Double, Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::{Jsonb, UtcTime, Uuid};

    core_videoasset (id) {
        id -> Uuid,
        orig_filename -> Varchar,
        storage_path -> Nullable<Varchar>,
        mime_type -> Varchar,
        size_bytes -> Nullable<BigInt>,
        checksum_sha256 -> Nullable<Varchar>,
        poster_path -> Nullable<Varchar>,
        renditions -> Jsonb,
        youtube_url -> Nullable<Varchar>,
        video_type -> Varchar,
        duration_sec -> Nullable<Integer>,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        processing_status -> Varchar,
        processing_error -> Nullable<Text>,
        processed_at -> Nullable<UtcTime>,
        is_valid -> Bool,
        last_validated -> Nullable<UtcTime>,
        validation_errors -> Jsonb,
        access_count -> Integer,
        last_accessed -> Nullable<UtcTime>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        /// Added by Practika (2026-11-28-000102): who uploaded it.
        uploaded_by_id -> Nullable<Integer>,
        /// Added by Practika (2026-12-01-300001): what the video is called;
        /// NULL (Django's rows) reads as the file name without its extension.
        title -> Nullable<Varchar>,
        /// Added by Practika (2026-12-01-300001): frames per second, from ffprobe.
        frame_rate -> Nullable<Double>,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Double, Nullable, Text, Varchar};
    use crate::db::types::sql::{UtcTime, Uuid};

    core_videoclip (id) {
        id -> Uuid,
        clip_hash -> Varchar,
        start_time -> Double,
        end_time -> Double,
        duration -> Double,
        storage_path -> Varchar,
        size_bytes -> Nullable<BigInt>,
        processing_status -> Varchar,
        processing_error -> Nullable<Text>,
        processed_at -> Nullable<UtcTime>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        original_video_id -> Uuid,
    }
}

diesel::table! {
    /// Exercises per creator, kept by triggers (the library's coach filter
    /// and its totals).
    exercises_coachcount (user_id) {
        user_id -> Integer,
        exercises -> Integer,
    }
}

diesel::table! {
    /// One row (id 1): how many exercises there are, kept by triggers.
    exercises_librarytotal (id) {
        id -> SmallInt,
        exercises -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::{Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::{UtcTime, Uuid};

    exercises_exercise (id) {
        id -> Uuid,
        name -> Varchar,
        description -> Nullable<Text>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        created_by_id -> Integer,
        video_asset_id -> Uuid,
        /// Comments and replies, kept exact by a trigger.
        comment_count -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::{Double, Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::{UtcTime, Uuid};

    comments_videocomment (id) {
        id -> Uuid,
        text -> Nullable<Text>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        author_id -> Integer,
        exercise_id -> Uuid,
        video_asset_id -> Uuid,
        range_start -> Nullable<Double>,
        range_end -> Nullable<Double>,
        clip_id -> Nullable<Uuid>,
        parent_id -> Nullable<Uuid>,
        compare_offset -> Nullable<Double>,
        range_video_id -> Nullable<Uuid>,
        compare_mirror -> Nullable<Varchar>,
        compare_overlay -> Nullable<Double>,
        /// A top-level comment waits for feedback while NULL (triggers
        /// set it when the coach or staff reply; "seen" sets it too).
        answered_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::{Integer, Nullable};
    use crate::db::types::sql::{UtcTime, Uuid};

    /// A coach's note (a reply) asking for another attempt; the student's
    /// next attempt on the exercise resolves it (a trigger).
    comments_retryrequest (id) {
        id -> Uuid,
        note_id -> Uuid,
        attempt_id -> Uuid,
        exercise_id -> Uuid,
        student_id -> Integer,
        created_at -> UtcTime,
        resolved_by_id -> Nullable<Uuid>,
        resolved_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::{Double, Integer};
    use crate::db::types::sql::{Jsonb, UtcTime, Uuid};

    comments_drawing (id) {
        id -> Uuid,
        comment_id -> Uuid,
        video_id -> Uuid,
        position -> Integer,
        start_time -> Double,
        end_time -> Double,
        shapes -> Jsonb,
        size_bytes -> Integer,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::{Jsonb, UtcTime, Uuid};

    comments_voiceover (id) {
        id -> Uuid,
        owner_id -> Integer,
        comment_id -> Nullable<Uuid>,
        video_id -> Nullable<Uuid>,
        original_path -> Varchar,
        original_mime -> Varchar,
        original_size -> BigInt,
        audio_path -> Nullable<Varchar>,
        audio_size -> Nullable<BigInt>,
        duration_ms -> Nullable<Integer>,
        timeline -> Jsonb,
        transcript -> Nullable<Text>,
        status -> Varchar,
        processing_error -> Nullable<Text>,
        created_at -> UtcTime,
        processed_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::{UtcTime, Uuid};

    comments_export (id) {
        id -> Uuid,
        comment_id -> Uuid,
        owner_id -> Integer,
        video_id -> Uuid,
        path -> Nullable<Varchar>,
        size_bytes -> Nullable<BigInt>,
        duration_ms -> Nullable<Integer>,
        status -> Varchar,
        processing_error -> Nullable<Text>,
        created_at -> UtcTime,
        finished_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Varchar};
    use crate::db::types::sql::UtcTime;

    accounts_loginattempt (id) {
        id -> BigInt,
        username -> Varchar,
        ip -> Varchar,
        attempted_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::{Jsonb, UtcTime};

    /// The background job queue (Practika's own, see `crate::jobs`).
    jobs_job (id) {
        id -> BigInt,
        kind -> Varchar,
        payload -> Jsonb,
        status -> Varchar,
        attempts -> Integer,
        max_attempts -> Integer,
        run_after -> UtcTime,
        locked_until -> Nullable<UtcTime>,
        locked_by -> Nullable<Varchar>,
        last_error -> Nullable<Text>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Nullable, Varchar};
    use crate::db::types::sql::{Jsonb, UtcTime};

    /// What staff did on the staff pages (Practika's own, see `crate::staff::audit`).
    staff_auditentry (id) {
        id -> BigInt,
        actor_id -> Nullable<Integer>,
        action -> Varchar,
        object_type -> Varchar,
        object_id -> Varchar,
        object_repr -> Varchar,
        changes -> Jsonb,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Varchar};
    use crate::db::types::sql::UtcTime;

    /// Server-side sessions (Practika's own, see `crate::accounts::sessions`).
    accounts_session (id) {
        id -> BigInt,
        key_hash -> Varchar,
        user_id -> Integer,
        auth_hash -> Varchar,
        user_agent -> Varchar,
        ip_address -> Varchar,
        created_at -> UtcTime,
        last_seen_at -> UtcTime,
        expires_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Varchar};
    use crate::db::types::sql::UtcTime;

    /// One-time form keys (Practika's own, see `crate::accounts::submissions`).
    accounts_formsubmission (id) {
        id -> BigInt,
        user_id -> Integer,
        form_key -> Varchar,
        answer -> Varchar,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Nullable, Varchar};
    use crate::db::types::sql::{Jsonb, UtcTime, Uuid};

    /// Resumable (tus) uploads in progress (Practika's own, see `crate::videos::tus`).
    videos_upload (id) {
        id -> Uuid,
        owner_id -> Integer,
        node_id -> Varchar,
        upload_length -> BigInt,
        upload_offset -> BigInt,
        filename -> Varchar,
        metadata -> Jsonb,
        video_id -> Nullable<Uuid>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        expires_at -> UtcTime,
        voiceover_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    use diesel::sql_types::{Text, Varchar};
    use crate::db::types::sql::UtcTime;

    /// Site-wide settings staff change (Practika's own, see `crate::staff::settings`).
    staff_sitesetting (name) {
        name -> Varchar,
        value -> Text,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{Double, Integer, Varchar};
    use crate::db::types::sql::{UtcTime, Uuid};

    /// Practice sessions on an exercise's demonstration (Practika's own,
    /// see `crate::practice`): running totals the browser reports.
    exercises_practicesession (id) {
        id -> Uuid,
        client_id -> Uuid,
        user_id -> Integer,
        exercise_id -> Uuid,
        started_at -> UtcTime,
        updated_at -> UtcTime,
        day -> Varchar,
        seconds -> Integer,
        max_speed -> Double,
        loops -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::{Integer, Varchar};
    use crate::db::types::sql::UtcTime;

    /// Each user's email digest choice (Practika's own, see `crate::digest`);
    /// no row: the default.
    digest_preference (user_id) {
        user_id -> Integer,
        frequency -> Varchar,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Varchar};
    use crate::db::types::sql::UtcTime;

    /// The digests sent, one per user and period (unique).
    digest_sent (id) {
        id -> BigInt,
        user_id -> Integer,
        period -> Varchar,
        sent_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Nullable, Varchar};
    use crate::db::types::sql::UtcTime;

    /// The digest periods whose job has been queued.
    digest_run (period) {
        period -> Varchar,
        job_id -> Nullable<BigInt>,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Varchar};
    use crate::db::types::sql::{UtcTime, Uuid};

    /// "Export my data" requests and their ZIP files (see `crate::exports`).
    exports_dataexport (id) {
        id -> Uuid,
        user_id -> Integer,
        status -> Varchar,
        file_path -> Nullable<Varchar>,
        size_bytes -> Nullable<BigInt>,
        error -> Nullable<Text>,
        created_at -> UtcTime,
        ready_at -> Nullable<UtcTime>,
        expires_at -> UtcTime,
    }
}

diesel::joinable!(accounts_profile -> auth_user (user_id));
diesel::joinable!(videos_upload -> auth_user (owner_id));
diesel::joinable!(accounts_session -> auth_user (user_id));
diesel::joinable!(staff_auditentry -> auth_user (actor_id));
diesel::joinable!(core_videoasset -> auth_user (uploaded_by_id));
diesel::joinable!(accounts_profile -> accounts_role (role_id));
diesel::joinable!(accounts_usermetrics -> accounts_profile (profile_id));
diesel::joinable!(core_videoclip -> core_videoasset (original_video_id));
diesel::joinable!(exercises_exercise -> auth_user (created_by_id));
diesel::joinable!(exercises_exercise -> core_videoasset (video_asset_id));
diesel::joinable!(comments_videocomment -> auth_user (author_id));
diesel::joinable!(comments_videocomment -> exercises_exercise (exercise_id));
diesel::joinable!(comments_drawing -> comments_videocomment (comment_id));
diesel::joinable!(comments_voiceover -> comments_videocomment (comment_id));
diesel::joinable!(comments_voiceover -> auth_user (owner_id));
diesel::joinable!(comments_export -> comments_videocomment (comment_id));
diesel::joinable!(comments_export -> auth_user (owner_id));
diesel::joinable!(exercises_practicesession -> exercises_exercise (exercise_id));

diesel::allow_tables_to_appear_in_same_query!(
    auth_user,
    accounts_betainvitation,
    accounts_loginattempt,
    accounts_role,
    accounts_profile,
    accounts_usermetrics,
    accounts_session,
    accounts_formsubmission,
    videos_upload,
    staff_sitesetting,
    core_videoasset,
    core_videoclip,
    exercises_exercise,
    exercises_coachcount,
    exercises_librarytotal,
    comments_videocomment,
    comments_drawing,
    comments_voiceover,
    comments_export,
    comments_retryrequest,
    exercises_practicesession,
    jobs_job,
    staff_auditentry,
    digest_preference,
    digest_sent,
    digest_run,
    exports_dataexport,
);
