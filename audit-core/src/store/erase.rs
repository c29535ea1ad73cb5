//! Erasure: a person's values replaced, in every event about them, by
//! their commitments, the salts destroyed, and the erasure recorded.
//!
//! One transaction, taken under its own lock: it reads the events about
//! the subject (they acted, someone acted as them, or a reference names
//! them), works out each personal value's commitment under the encoding
//! of the seal that covers the event (version 2 if none does yet), writes
//! the `audit:subject_erased` record listing every value it erases, then
//! rewrites those values with a permit the update trigger checks: on
//! PostgreSQL a row only the schema's owner may write, and the trigger
//! lets no other column change. Seals need nothing: an erased value is
//! hashed as its commitment, which is the hash the seal already holds.

use std::collections::BTreeMap;

use super::append;
use super::auditor::Auditor;
use super::backends::with_storage;
use super::error::{AuditError, classify};
use super::personal::{
    self, ACTOR_AS_NAME, ACTOR_NAME, CLIENT_ADDRESS, Entry, PAYLOAD, PersonalMap,
};
use super::seal::canonical;
use super::seal::encoding::{
    ENCODING, StoredValue, column_commitment, hash_member, is_blank, personal_of, value_index,
};
use super::seal::raw::RawEvent;
use super::seal::rows::raw_event;
use super::table::{ERASE_COMMAND, ERASED_EVENT_CODE, EVENTS_TABLE, EventRow, select_list};
use crate::actor::Actor;
use crate::backend::Db;
use crate::catalog::{EventCatalog, EventType};
use crate::on_backend;
use crate::reference::{EntityRef, References};

/// The advisory lock that serializes erasures on PostgreSQL.
const ERASE_LOCK: i64 = 4_242_424_246;

/// The person an erasure is about: the id they act under, and how events
/// refer to them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subject {
    /// The id they act under (the id of [`Actor::user`]).
    pub actor_id: String,
    /// How `#[target]`, `#[parent]` and `#[subject]` fields refer to them,
    /// if any do.
    pub reference: Option<EntityRef>,
}

impl Subject {
    /// The user with `id`: the actor of that id, and the references of kind
    /// `user` to it (the kind [`ACTOR_KIND`](crate::present::ACTOR_KIND)
    /// names; [`Subject::referred_to_as`] sets another).
    pub fn user(id: impl ToString) -> Self {
        let id = id.to_string();
        Subject {
            reference: Some(EntityRef::new(crate::present::ACTOR_KIND, id.clone())),
            actor_id: id,
        }
    }

    /// The same person, referred to by events as `reference`.
    pub fn referred_to_as(mut self, reference: EntityRef) -> Self {
        self.reference = Some(reference);
        self
    }
}

/// What [`Auditor::erase`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErasureReport {
    /// The id of the `audit:subject_erased` event that records it.
    pub record_id: i64,
    /// The opaque id the record names the subject by (random: it says
    /// nothing of who they were).
    pub subject: String,
    /// Values erased.
    pub values: u64,
    /// Events they were erased from.
    pub events: u64,
    /// Of the values, those written before schema version 9, which have no
    /// salt: their commitment is a plain hash, which a guess can confirm.
    pub unsalted: u64,
    /// Of the values, whole payloads: events sealed with version 1 of the
    /// seal's encoding (written before schema version 9) hash the payload
    /// as one value, so a personal field of theirs goes with the whole
    /// payload (stored as `null`; the event then reads as unknown).
    pub whole_payloads: u64,
}

/// One value to erase: its slot, its commitment, and whether it had a salt.
struct Erased {
    slot: String,
    commitment: [u8; 32],
    salted: bool,
}

/// One event's new values.
struct Rewrite {
    id: i64,
    actor_name: StoredValue,
    actor_as_name: StoredValue,
    client_address: StoredValue,
    context: StoredValue,
    payload: String,
    personal: PersonalMap,
    erased: Vec<Erased>,
}

impl Auditor {
    /// Erases every personal value about `subject` from the log, acting as
    /// `actor`, and records it, with `reason`, in an `audit:subject_erased`
    /// event that names the subject only by an opaque id and lists each
    /// value it erased (the event's id, the value's slot, its commitment),
    /// so that copies of the log (`read_after`, exports) can apply it.
    ///
    /// The personal values about a person: in the events they acted in,
    /// their name, the client's address and user agent; in the events where
    /// someone acted as them, their name; in the events whose target,
    /// parent or subject is them, the payload's `#[personal]` fields (those
    /// salted when written, and those catalog `E` declares, for rows written
    /// before schema version 9: a payload sealed with the seal's first
    /// encoding then goes whole). Each
    /// is replaced by its commitment (the hash the seal holds for it) and
    /// its salt destroyed; the event then reads as
    /// [`ERASED_NAME`](crate::erasure::ERASED_NAME) where the name was, and
    /// a field as its `Erasable::erased` value. The seals still verify, and
    /// [`verify`](Auditor::verify) reports how many values each erasure
    /// took. On SQLite the database file keeps none of the erased bytes
    /// (`secure_delete` zeroes them; the write-ahead log is checkpointed
    /// and truncated afterwards); on PostgreSQL only the schema's owner may
    /// erase, and the old row versions stay on disk until `VACUUM` (see
    /// the `erasure` module).
    #[tracing::instrument(name = "audit.erase", skip_all, fields(backend = self.backend().name()))]
    pub async fn erase<E: EventCatalog>(
        &self,
        subject: &Subject,
        actor: &Actor,
        reason: &str,
    ) -> Result<ErasureReport, AuditError> {
        let mut tx = self.begin_locked(ERASE_LOCK).await?;
        let events = events_about(tx.db(), subject).await?;
        let mut rewrites = Vec::new();
        for (event, sealed_with) in &events {
            let encoding = sealed_with.unwrap_or(ENCODING);
            let code = event.values[value_index("event_type")].text().unwrap_or("");
            let fields = code
                .parse::<E::Type>()
                .map_or(&[][..], |event_type| event_type.personal_fields());
            if let Some(rewrite) = rewrite(event, encoding, subject, fields) {
                rewrites.push(rewrite);
            }
        }
        let opaque = hex::encode(uuid::Uuid::new_v4().as_bytes());
        let listed: Vec<serde_json::Value> = rewrites
            .iter()
            .flat_map(|r| {
                r.erased
                    .iter()
                    .map(|e| serde_json::json!([r.id, e.slot, hex::encode(e.commitment)]))
            })
            .collect();
        let values = listed.len() as u64;
        let unsalted = rewrites
            .iter()
            .flat_map(|r| &r.erased)
            .filter(|e| !e.salted)
            .count() as u64;
        let whole_payloads = rewrites
            .iter()
            .flat_map(|r| &r.erased)
            .filter(|e| e.slot == "payload")
            .count() as u64;
        let command_id = uuid::Uuid::new_v4().to_string();
        let record = EventRow {
            occurred_at: chrono::Utc::now().timestamp_micros(),
            code: ERASED_EVENT_CODE,
            version: 1,
            references: References::default(),
            command_name: ERASE_COMMAND,
            command_id: command_id.clone(),
            payload: serde_json::json!({
                "subject": opaque,
                "reason": reason,
                "values": values,
                "events": rewrites.len(),
                "unsalted": unsalted,
                "erased": listed,
            })
            .to_string(),
            context: None,
            personal: personal::salted(actor, None, &[])?,
        };
        append::write(tx.db(), actor, std::slice::from_ref(&record)).await?;
        let record_id = record_id(tx.db(), &command_id).await?;
        if !rewrites.is_empty() {
            apply(tx.db(), &mut rewrites, record_id).await?;
        }
        tx.commit().await?;
        with_storage!(self.pool(), pool, S => S::after_erasure(pool).await)?;
        Ok(ErasureReport {
            record_id,
            subject: opaque,
            values,
            events: rewrites.len() as u64,
            unsalted,
            whole_payloads,
        })
    }
}

/// Every event about `subject`, in id order, each with the encoding of the
/// seal that covers it (`None`: not sealed yet).
async fn events_about(
    db: Db<'_>,
    subject: &Subject,
) -> Result<Vec<(RawEvent, Option<i64>)>, AuditError> {
    let dialect = db.backend().dialect();
    let list = select_list(dialect.payload_as_text, dialect.position_tx);
    let sql = format!(
        "SELECT * FROM (SELECT {list}, (SELECT s.encoding FROM audit_seal_entries se \
         JOIN audit_seals s ON s.seq = se.seal_seq \
         WHERE se.tx = {position} AND se.id = {EVENTS_TABLE}.id) AS sealed_with \
         FROM {EVENTS_TABLE} WHERE id > 0 AND ((actor_kind = 'user' AND actor_id = $1) \
         OR actor_as_id = $1 OR (target_kind = $2 AND target_id = $3) \
         OR (parent_kind = $2 AND parent_id = $3) OR (subject_kind = $2 AND subject_id = $3))) \
         AS about ORDER BY id",
        position = dialect.position_tx,
    );
    let (kind, id) = match &subject.reference {
        Some(reference) => (Some(reference.kind.to_string()), Some(reference.id.clone())),
        None => (None, None),
    };
    on_backend!(db, conn => {
        // Our own column names and fragments; every value is bound.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&subject.actor_id)
            .bind(kind)
            .bind(id)
            .fetch_all(conn)
            .await
            .map_err(classify)?;
        Ok(rows
            .iter()
            .map(|row| {
                let sealed_with = sqlx::Row::try_get::<Option<i64>, _>(row, "sealed_with")
                    .ok()
                    .flatten();
                (raw_event(row), sealed_with)
            })
            .collect())
    })
}

/// What erasing `subject` changes in `event`, sealed (or to be sealed)
/// with `encoding`; `None` when nothing. `catalog_fields` are the personal
/// payload fields the catalog declares for the event's type: those stored
/// without a salt (before schema version 9) are erased too.
fn rewrite(
    event: &RawEvent,
    encoding: i64,
    subject: &Subject,
    catalog_fields: &[&str],
) -> Option<Rewrite> {
    let values = &event.values;
    let value = |name: &str| values[value_index(name)].clone();
    let text = |name: &str| values[value_index(name)].text().map(str::to_owned);
    let mut personal = personal_of(values);
    let acted = text("actor_kind").as_deref() == Some("user")
        && text("actor_id").as_deref() == Some(subject.actor_id.as_str());
    let acted_for = text("actor_as_id").as_deref() == Some(subject.actor_id.as_str());
    let referred = subject.reference.as_ref().is_some_and(|reference| {
        ["target", "parent", "subject"].iter().any(|role| {
            text(&format!("{role}_kind")).as_deref() == Some(reference.kind.as_ref())
                && text(&format!("{role}_id")).as_deref() == Some(reference.id.as_str())
        })
    });
    let mut rewrite = Rewrite {
        id: event.position.id(),
        actor_name: value("actor_name"),
        actor_as_name: value("actor_as_name"),
        client_address: value("client_address"),
        context: value("context"),
        payload: text("payload").unwrap_or_default(),
        // Set once the erased slots are marked (below).
        personal: PersonalMap::default(),
        erased: Vec::new(),
    };
    // Whole columns: blanked (the name is NOT NULL: empty text).
    let mut columns: Vec<(&str, StoredValue)> = Vec::new();
    if acted {
        columns.push((ACTOR_NAME, StoredValue::Text(String::new())));
        columns.push((CLIENT_ADDRESS, StoredValue::Null));
    }
    if acted_for {
        columns.push((ACTOR_AS_NAME, StoredValue::Null));
    }
    // Members of JSON columns: set to `null`.
    let mut members: Vec<(&str, String)> = Vec::new();
    if acted {
        if encoding >= 2 {
            members.push(("context", "user_agent".to_owned()));
        } else if context_has_user_agent(&rewrite.context) {
            // Version 1 hashed the context whole: it goes whole.
            columns.push(("context", StoredValue::Null));
        }
    }
    if referred {
        let mut fields: Vec<String> = personal
            .0
            .iter()
            .filter(|(_, entry)| matches!(entry, Entry::Salt(_)))
            .filter_map(|(slot, _)| slot.strip_prefix(PAYLOAD).map(str::to_owned))
            .collect();
        for field in catalog_fields {
            if !personal.0.contains_key(&format!("{PAYLOAD}{field}"))
                && !fields.iter().any(|f| f == field)
            {
                fields.push((*field).to_owned());
            }
        }
        if encoding >= 2 {
            members.extend(fields.into_iter().map(|field| ("payload", field)));
        } else if !fields.is_empty() && payload_holds_any(&rewrite.payload, &fields) {
            // Version 1 hashed the payload whole: it goes whole.
            columns.push(("payload", StoredValue::Text("null".to_owned())));
        }
    }
    for (name, blank) in columns {
        let i = value_index(name);
        let stored = &values[i];
        if is_blank(i, stored) || personal.is_erased(name) {
            continue;
        }
        let commitment = column_commitment(i, stored, &personal, encoding);
        let salted = personal.salt(name).is_some() && encoding >= 2;
        rewrite.set_column(name, blank);
        personal.0.insert(name.to_owned(), placeholder(commitment));
        rewrite.erased.push(Erased {
            slot: name.to_owned(),
            commitment,
            salted,
        });
    }
    for (column, key) in members {
        let slot = format!("{column}.{key}");
        if personal.is_erased(&slot) {
            continue;
        }
        let target = if column == "payload" {
            &mut rewrite.payload
        } else {
            match &mut rewrite.context {
                StoredValue::Text(text) => text,
                _ => continue,
            }
        };
        // Read as the seal reads it (`canonical::parse`), so that the
        // commitment is the hash the seal holds.
        let Some(serde_json::Value::Object(mut object)) = canonical::parse(target) else {
            continue;
        };
        let Some(member) = object.get_mut(&key) else {
            continue;
        };
        if member.is_null() {
            continue;
        }
        let salt = personal.salt(&slot).copied();
        let commitment = hash_member(member, salt.as_ref());
        *member = serde_json::Value::Null;
        *target = serde_json::Value::Object(object).to_string();
        personal.0.insert(slot.clone(), placeholder(commitment));
        rewrite.erased.push(Erased {
            slot,
            commitment,
            salted: salt.is_some(),
        });
    }
    rewrite.personal = personal;
    (!rewrite.erased.is_empty()).then_some(rewrite)
}

/// Whether the stored `payload` holds a value for one of `fields`.
fn payload_holds_any(payload: &str, fields: &[String]) -> bool {
    match canonical::parse(payload) {
        Some(serde_json::Value::Object(members)) => fields
            .iter()
            .any(|field| members.get(field).is_some_and(|v| !v.is_null())),
        _ => false,
    }
}

/// An erased entry whose record is not written yet (`apply` sets it).
fn placeholder(commitment: [u8; 32]) -> Entry {
    Entry::Erased { commitment, by: 0 }
}

/// Whether a stored `context` holds a user agent.
fn context_has_user_agent(context: &StoredValue) -> bool {
    context
        .text()
        .and_then(|text| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(text).ok())
        .is_some_and(|members| members.get("user_agent").is_some_and(|v| !v.is_null()))
}

impl Rewrite {
    /// Sets the new value of the whole column `name`.
    fn set_column(&mut self, name: &str, value: StoredValue) {
        match name {
            ACTOR_NAME => self.actor_name = value,
            ACTOR_AS_NAME => self.actor_as_name = value,
            CLIENT_ADDRESS => self.client_address = value,
            "payload" => self.payload = value.text().unwrap_or("null").to_owned(),
            _ => self.context = value,
        }
    }
}

/// The id of the record written with `command_id`.
async fn record_id(db: Db<'_>, command_id: &str) -> Result<i64, AuditError> {
    on_backend!(db, conn => {
        sqlx::query_scalar(concat!(
            "SELECT max(id) FROM ", crate::store::table::events_table!(), " WHERE command_id = $1"
        ))
        .bind(command_id)
        .fetch_one(conn)
        .await
        .map_err(classify)
    })
}

/// Writes the permit, every rewrite (their erased entries naming
/// `record_id`), and takes the permit back.
async fn apply(mut db: Db<'_>, rewrites: &mut [Rewrite], record_id: i64) -> Result<(), AuditError> {
    let ([grant, revoke], json_cast) =
        with_storage!(&db, _, S => (S::ERASURE_PERMIT, S::JSON_CAST));
    let update = format!(
        "UPDATE {EVENTS_TABLE} SET actor_name = $1, actor_as_name = $2, client_address = $3, \
         context = $4, payload = $5{json_cast}, personal = $6 WHERE id = $7"
    );
    on_backend!(db.reborrow(), conn => {
        sqlx::query(grant).execute(&mut *conn).await.map_err(classify)?;
        for rewrite in rewrites.iter_mut() {
            for entry in rewrite.personal.0.values_mut() {
                if let Entry::Erased { by, .. } = entry && *by == 0 {
                    *by = record_id;
                }
            }
            // Our own column names and numbered placeholders; every value is bound.
            sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                .bind(rewrite.actor_name.text().map(str::to_owned))
                .bind(rewrite.actor_as_name.text().map(str::to_owned))
                .bind(rewrite.client_address.text().map(str::to_owned))
                .bind(rewrite.context.text().map(str::to_owned))
                .bind(rewrite.payload.clone())
                .bind(rewrite.personal.to_column())
                .bind(rewrite.id)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
        }
        sqlx::query(revoke).execute(&mut *conn).await.map_err(classify)?;
    });
    Ok(())
}
