//! The settings read from Jenkins, whatever file they came from: each plugin field's value
//! with where it was read, so that every written setting can say where it came from.

use std::collections::BTreeMap;
use std::fmt;

/// A field's value as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Text (every XML value; a string literal of a Jenkinsfile).
    Text(String),
    /// A Jenkinsfile boolean.
    Bool(bool),
    /// A Jenkinsfile number, as written (`30`, `7.5`).
    Number(String),
    /// A Jenkinsfile `null`.
    Null,
    /// A value that cannot be known without running the pipeline (a variable, an interpolated
    /// string, an expression): the source text.
    Unreadable(String),
}

impl Value {
    /// The value as text, when it is known (a number as written, a boolean as `true`/`false`).
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Value::Text(s) | Value::Number(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Unreadable(_) => None,
        }
    }

    /// The value as a Jenkins boolean: `true`/`false` (any case, trimmed) or a boolean literal.
    pub(crate) fn boolean(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Text(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
            Value::Text(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

/// Where a field was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// An element of the global configuration file (its file name).
    Global(String),
    /// An element of a job's `config.xml` (its display name).
    Job(String),
    /// A parameter of the step's call in a script: its file (or `job config.xml script`) and
    /// 1-based line.
    Script(String, usize),
}

impl Origin {
    /// `from <where> <field>` for a comment in the written files and the table.
    pub(crate) fn describe(&self, field: &str) -> String {
        match self {
            Origin::Global(file) | Origin::Job(file) => format!("from {file} <{field}>"),
            Origin::Script(file, line) => format!("from {file}:{line} {field}"),
        }
    }
}

/// A field's value and where it was read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// The value.
    pub(crate) value: Value,
    /// Where.
    pub(crate) origin: Origin,
}

/// The plugin's fields of one source (the global configuration, or one job's step).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fields(BTreeMap<String, Field>);

impl Fields {
    /// Sets a field (a later one replaces an earlier one of the same name, as in Groovy maps
    /// and `XStream`).
    pub(crate) fn insert(&mut self, name: &str, value: Value, origin: Origin) {
        self.0.insert(name.to_owned(), Field { value, origin });
    }

    /// A field.
    pub(crate) fn get(&self, name: &str) -> Option<&Field> {
        self.0.get(name)
    }

    /// Every field, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Field)> {
        self.0.iter()
    }
}

/// What kind of job a `--job` was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// A freestyle (or other classic) job with the plugin's build step.
    Freestyle,
    /// A pipeline job whose script is in its `config.xml`.
    Pipeline,
    /// A Jenkinsfile given directly.
    Jenkinsfile,
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobKind::Freestyle => "freestyle job",
            JobKind::Pipeline => "pipeline job",
            JobKind::Jenkinsfile => "Jenkinsfile",
        })
    }
}

/// One job's step, as read.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The job's name (its directory, or the Jenkinsfile's name).
    pub(crate) name: String,
    /// What it is.
    pub(crate) kind: JobKind,
    /// The step's fields.
    pub(crate) fields: Fields,
    /// What reading it noticed (a second step that was not migrated, …): table rows.
    pub(crate) notes: Vec<Row>,
}

/// A row of the table `qcs migrate jenkins` prints: a setting that could not be read, or that
/// maps only approximately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// The plugin's field, with where it was read.
    pub(crate) setting: String,
    /// Its value as it may be shown (secrets only as `(encrypted)` or `(set)`).
    pub(crate) value: String,
    /// What it became in `qcs`.
    pub(crate) becomes: String,
    /// Why it needs a look.
    pub(crate) note: String,
}
