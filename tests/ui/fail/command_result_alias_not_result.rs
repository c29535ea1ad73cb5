// A command whose return type is an alias of something that is not a `Result`.
include!("../cmd_catalog.rs");

type CmdResult<T> = Option<T>;

#[audit_core::auditable(emits(ThingAdded?))]
async fn add_thing(_cx: &mut audit_core::Audit<ThingEvent>) -> CmdResult<u32> {
    Some(1)
}

fn main() {}
