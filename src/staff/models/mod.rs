//! The models on the staff pages, one file each.

pub mod clips;
pub mod comments;
pub mod drawings;
pub mod exercises;
pub mod exports;
pub mod invitations;
pub mod jobs;
pub mod new_exercise;
pub mod new_user;
pub mod roles;
pub mod users;
pub mod videos;
pub mod voiceovers;

use super::model::StaffModel;

/// In the order of the staff navigation.
pub const ALL: &[&dyn StaffModel] = &[
    &users::Users,
    &roles::Roles,
    &invitations::Invitations,
    &videos::Videos,
    &clips::Clips,
    &exercises::Exercises,
    &comments::Comments,
    &drawings::Drawings,
    &voiceovers::Voiceovers,
    &exports::Exports,
    &jobs::Jobs,
];

pub fn find(slug: &str) -> Option<&'static dyn StaffModel> {
    ALL.iter().copied().find(|m| m.slug() == slug)
}
