//! The events a workflow can be triggered by, with their activity types and
//! the configuration keys each accepts (from GitHub's workflow schema).

/// One event GitHub knows.
#[derive(Debug, Clone, Copy)]
pub struct EventSpec {
    pub name: &'static str,
    /// Valid `types:` values; empty when the event takes any (`repository_dispatch`)
    /// or none.
    pub activity_types: &'static [&'static str],
    /// Configuration keys accepted under the event.
    pub keys: &'static [&'static str],
}

const TYPES: &[&str] = &["types"];
const REF_FILTERS: &[&str] = &[
    "branches",
    "branches-ignore",
    "tags",
    "tags-ignore",
    "paths",
    "paths-ignore",
];
const PR_KEYS: &[&str] = &[
    "types",
    "branches",
    "branches-ignore",
    "paths",
    "paths-ignore",
];
const CREATED_EDITED_DELETED: &[&str] = &["created", "edited", "deleted"];
const PR_TYPES: &[&str] = &[
    "assigned",
    "unassigned",
    "labeled",
    "unlabeled",
    "opened",
    "edited",
    "closed",
    "reopened",
    "synchronize",
    "converted_to_draft",
    "locked",
    "unlocked",
    "enqueued",
    "dequeued",
    "milestoned",
    "demilestoned",
    "ready_for_review",
    "review_requested",
    "review_request_removed",
    "auto_merge_enabled",
    "auto_merge_disabled",
    "stacked",
];

const fn event(
    name: &'static str,
    activity_types: &'static [&'static str],
    keys: &'static [&'static str],
) -> EventSpec {
    EventSpec {
        name,
        activity_types,
        keys,
    }
}

pub const EVENTS: &[EventSpec] = &[
    event("branch_protection_rule", CREATED_EDITED_DELETED, TYPES),
    event(
        "check_run",
        &["completed", "created", "rerequested", "requested_action"],
        TYPES,
    ),
    event("check_suite", &["completed"], TYPES),
    event("create", &[], &[]),
    event("delete", &[], &[]),
    event("deployment", &[], &[]),
    event("deployment_status", &[], &[]),
    event(
        "discussion",
        &[
            "created",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "category_changed",
            "answered",
            "unanswered",
        ],
        TYPES,
    ),
    event("discussion_comment", CREATED_EDITED_DELETED, TYPES),
    event("fork", &[], &[]),
    event("gollum", &[], &[]),
    event(
        "image_version",
        &["created", "ready", "deleted"],
        &["types", "names", "versions"],
    ),
    event("issue_comment", CREATED_EDITED_DELETED, TYPES),
    event(
        "issues",
        &[
            "opened",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "closed",
            "reopened",
            "assigned",
            "unassigned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "milestoned",
            "demilestoned",
            "field_added",
            "field_removed",
        ],
        TYPES,
    ),
    event("label", CREATED_EDITED_DELETED, TYPES),
    event(
        "merge_group",
        &["checks_requested"],
        &["types", "branches", "branches-ignore"],
    ),
    event(
        "milestone",
        &["created", "closed", "opened", "edited", "deleted"],
        TYPES,
    ),
    event("page_build", &[], &[]),
    event(
        "project",
        &["created", "closed", "reopened", "edited", "deleted"],
        TYPES,
    ),
    event(
        "project_card",
        &["created", "moved", "converted", "edited", "deleted"],
        TYPES,
    ),
    event(
        "project_column",
        &["created", "updated", "moved", "deleted"],
        TYPES,
    ),
    event("public", &[], &[]),
    event("pull_request", PR_TYPES, PR_KEYS),
    event("pull_request_comment", CREATED_EDITED_DELETED, TYPES),
    event(
        "pull_request_review",
        &["submitted", "edited", "dismissed"],
        TYPES,
    ),
    event("pull_request_review_comment", CREATED_EDITED_DELETED, TYPES),
    event("pull_request_target", PR_TYPES, PR_KEYS),
    event("push", &[], REF_FILTERS),
    event("registry_package", &["published", "updated"], TYPES),
    event(
        "release",
        &[
            "published",
            "unpublished",
            "created",
            "edited",
            "deleted",
            "prereleased",
            "released",
        ],
        TYPES,
    ),
    event("repository_dispatch", &[], TYPES),
    event("schedule", &[], &[]),
    event("status", &[], &[]),
    event("watch", &["started"], TYPES),
    event("workflow_call", &[], &["inputs", "secrets", "outputs"]),
    event("workflow_dispatch", &[], &["inputs"]),
    event(
        "workflow_run",
        &["requested", "completed", "in_progress"],
        &["types", "workflows", "branches", "branches-ignore"],
    ),
];

pub fn find(name: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|e| e.name == name)
}
