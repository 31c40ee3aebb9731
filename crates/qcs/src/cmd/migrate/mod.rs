//! `qcs migrate jenkins`: turns what a Jenkins holds for the Qualys plugin into `qcs` files.
//!
//! It reads the plugin's global configuration (`--global`, else the file in `$JENKINS_HOME`), and
//! any number of jobs (`--job`: a job's `config.xml`, freestyle or pipeline, or a Jenkinsfile),
//! and writes `qcs.toml` and `qcs-policy.toml` (one pair per job when there are several), each
//! setting with a comment saying where it came from. It prints, on standard output, the secrets
//! to provide (never their values), a table of the settings that could not be read or map only
//! approximately, and the job's equivalent steps.
//!
//! The pieces: [`xml`] reads Jenkins' XML, [`groovy`] the step's call in a Jenkinsfile,
//! [`mapping`] turns the settings into the files (pure), [`report`] prints. This module does the
//! I/O: finding and reading the inputs, refusing to replace files without `--force`, writing.

mod groovy;
mod mapping;
mod model;
mod report;
mod xml;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use qcs_core::exit::ExitCode;

use crate::cli::{MigrateCommand, MigrateJenkinsArgs};
use crate::error::CliError;
use model::{Fields, Job, JobKind, Origin, Row, Value};

/// The plugin's global configuration file in `$JENKINS_HOME` (`plugin-behaviour.md` §3).
pub(crate) const GLOBAL_FILE: &str =
    "com.qualys.plugins.containerSecurity.config.QualysGlobalConfig.xml";
/// The name older plugin versions saved it under (read when the other is missing).
const LEGACY_GLOBAL_FILE: &str = "jenkins.plugins.qualys_cs.QualysCS.xml";
/// The files written.
const CONFIG_FILE: &str = "qcs.toml";
const POLICY_FILE: &str = "qcs-policy.toml";

/// The plugin's fields of its global configuration: an XML file holding none of them is not it.
const GLOBAL_FIELDS: &[&str] = &[
    "apiServer",
    "platform",
    "credentialsId",
    "pollingInterval",
    "vulnsTimeout",
    "isSev1Vulns",
    "isSev5Vulns",
    "useProxy",
    "dockerUrl",
    "failByCvss",
];

/// Runs `qcs migrate …`.
pub(crate) fn run(cmd: &MigrateCommand) -> Result<ExitCode, CliError> {
    let MigrateCommand::Jenkins(args) = cmd;
    jenkins(args, &crate::settings::process_env)
}

fn jenkins(
    args: &MigrateJenkinsArgs,
    env: crate::settings::EnvLookup<'_>,
) -> Result<ExitCode, CliError> {
    let global_path = global_path(args, env);
    if global_path.is_none() && args.jobs.is_empty() {
        return Err(CliError::Usage(
            "nothing to migrate: no --global, no --job, and JENKINS_HOME is not set".to_owned(),
            format!(
                "give the plugin's global configuration (--global $JENKINS_HOME/{GLOBAL_FILE}) \
                 and/or a job (--job jobs/NAME/config.xml, or --job Jenkinsfile)"
            ),
        ));
    }
    let global = match &global_path {
        Some(p) => Some(read_global(p)?),
        None => None,
    };
    let kinds = global_path
        .as_deref()
        .and_then(Path::parent)
        .map(|dir| dir.join("credentials.xml"))
        .filter(|p| p.is_file())
        .map(|p| read_credential_kinds(&p))
        .transpose()?
        .unwrap_or_default();
    let jobs = args
        .jobs
        .iter()
        .map(|p| read_job(p))
        .collect::<Result<Vec<Job>, CliError>>()?;

    // Where each migration goes: --out, or one subdirectory per job when there are several.
    let targets: Vec<(Option<&Job>, PathBuf)> = if jobs.len() > 1 {
        let mut seen = Vec::new();
        let mut t = Vec::new();
        for j in &jobs {
            if seen.contains(&j.name) {
                return Err(CliError::Usage(
                    format!("two of the --job files are named `{}`", j.name),
                    "migrate them one at a time, each with its own --out DIR".to_owned(),
                ));
            }
            seen.push(j.name.clone());
            t.push((Some(j), args.out.join(&j.name)));
        }
        t
    } else {
        vec![(jobs.first(), args.out.clone())]
    };

    // Nothing is replaced without --force, and nothing is written before every target is known
    // to be free.
    if !args.force {
        let existing: Vec<String> = targets
            .iter()
            .flat_map(|(_, dir)| [dir.join(CONFIG_FILE), dir.join(POLICY_FILE)])
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(CliError::Usage(
                format!(
                    "{} already exist{}",
                    existing.join(" and "),
                    if existing.len() == 1 { "s" } else { "" }
                ),
                "give --force to replace them, or --out DIR to write somewhere else".to_owned(),
            ));
        }
    }

    let mut migrations = Vec::new();
    for (job, dir) in &targets {
        let sources = mapping::Sources {
            global: global.as_ref().map(|(f, _)| f),
            job: *job,
            credential_kinds: &kinds,
            policy_file: POLICY_FILE,
        };
        let m = mapping::migrate(&sources)
            .map_err(|e| CliError::Usage(e.message, e.hint.to_owned()))?;
        migrations.push((job, dir, m));
    }
    let mut out = anstream::stdout().lock();
    for (job, dir, m) in &migrations {
        let config = dir.join(CONFIG_FILE);
        let policy = dir.join(POLICY_FILE);
        let write = |path: &Path, text: &str| {
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(path, text))
                .map_err(|source| CliError::Write {
                    what: "the migrated settings".to_owned(),
                    path: path.to_owned(),
                    source,
                })
        };
        write(&config, &m.config)?;
        write(&policy, &m.policy)?;
        let from = match (&global, job) {
            (Some((_, g)), Some(j)) => format!("{} and {}", g.display(), j.name),
            (Some((_, g)), None) => g.display().to_string(),
            (None, Some(j)) => j.name.clone(),
            (None, None) => String::new(),
        };
        let text = report::render(
            m,
            &format!("qcs migrate jenkins: {from}"),
            (&config.display().to_string(), &policy.display().to_string()),
            job.map(|j| (j.name.as_str(), j.kind)),
        );
        let _ = writeln!(out, "{text}");
    }
    Ok(ExitCode::Passed)
}

/// `--global`, else the plugin's file in `$JENKINS_HOME` when it exists there (or the older
/// name).
fn global_path(args: &MigrateJenkinsArgs, env: crate::settings::EnvLookup<'_>) -> Option<PathBuf> {
    if let Some(p) = &args.global_config {
        return Some(p.clone());
    }
    let home = PathBuf::from(env(crate::env::JENKINS_HOME)?);
    [GLOBAL_FILE, LEGACY_GLOBAL_FILE]
        .into_iter()
        .map(|name| home.join(name))
        .find(|p| p.is_file())
}

fn read(path: &Path, what: &'static str) -> Result<String, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Read {
        what,
        path: path.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| {
        CliError::BadInputs(
            vec![format!("{what} `{}` is not UTF-8 text", path.display())],
            "give the file as Jenkins saved it (UTF-8)",
        )
    })
}

fn xml_error(path: &Path, e: &xml::XmlError, hint: &'static str) -> CliError {
    CliError::BadInputs(
        vec![format!(
            "{}:{}:{}: not readable XML: {}",
            path.display(),
            e.line,
            e.column,
            e.message
        )],
        hint,
    )
}

/// The display name of a file for comments (its file name).
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reads the plugin's global configuration: its fields, and the path read.
fn read_global(path: &Path) -> Result<(Fields, PathBuf), CliError> {
    let text = read(path, "the plugin's global configuration")?;
    let hint = "give the plugin's global configuration as Jenkins saved it \
                ($JENKINS_HOME/com.qualys.plugins.containerSecurity.config.QualysGlobalConfig.xml)";
    let root = xml::parse(&text).map_err(|e| xml_error(path, &e, hint))?;
    if !root
        .children
        .iter()
        .any(|c| GLOBAL_FIELDS.contains(&c.name.as_str()))
    {
        return Err(CliError::BadInputs(
            vec![format!(
                "{}: <{}> holds none of the plugin's global settings (apiServer, platform, \
                 credentialsId, …)",
                path.display(),
                root.name
            )],
            hint,
        ));
    }
    // `com.qualys.plugins.containerSecurity.config.QualysGlobalConfig.xml` is shown as
    // `QualysGlobalConfig.xml` in comments and tables.
    let name = file_name(path);
    let name = name
        .strip_prefix("com.qualys.plugins.containerSecurity.config.")
        .unwrap_or(&name)
        .to_owned();
    let fields = xml::fields_of(&root, &Origin::Global(name));
    Ok((fields, path.to_owned()))
}

fn read_credential_kinds(path: &Path) -> Result<BTreeMap<String, bool>, CliError> {
    let text = read(path, "Jenkins' credentials")?;
    let root = xml::parse(&text).map_err(|e| {
        xml_error(
            path,
            &e,
            "the credential types are read from credentials.xml beside the global configuration; move a broken one away to migrate without them",
        )
    })?;
    Ok(xml::credential_kinds(&root))
}

/// The job's name: its directory for a `config.xml` (`jobs/NAME/config.xml`), else the file's
/// name.
fn job_name(path: &Path) -> String {
    let is_config = path.file_name().is_some_and(|n| n == "config.xml");
    let dir = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned());
    match (is_config, dir) {
        (true, Some(d)) if !d.is_empty() => d,
        _ => file_name(path),
    }
}

/// Reads a `--job`: a `config.xml` (XML) or a Jenkinsfile (anything else).
fn read_job(path: &Path) -> Result<Job, CliError> {
    let text = read(path, "job")?;
    let name = job_name(path);
    if text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
    {
        read_job_xml(path, &text, name)
    } else {
        let file = file_name(path);
        let (fields, notes) = from_script(path, &text, &|line| Origin::Script(file.clone(), line))?;
        Ok(Job {
            name,
            kind: JobKind::Jenkinsfile,
            fields,
            notes,
        })
    }
}

fn read_job_xml(path: &Path, text: &str, name: String) -> Result<Job, CliError> {
    let hint = "give the job's config.xml as Jenkins saved it ($JENKINS_HOME/jobs/NAME/config.xml)";
    let root = xml::parse(text).map_err(|e| xml_error(path, &e, hint))?;
    let shown = "job config.xml".to_owned();
    match xml::job_xml(&root) {
        xml::JobXml::Step(steps) => {
            let mut notes = Vec::new();
            for extra in steps.iter().skip(1) {
                let (line, _) = xml::line_col(text, extra.offset);
                notes.push(Row {
                    setting: format!("{shown}:{line} <{}>", xml::STEP_CLASS),
                    value: "a second Qualys step".to_owned(),
                    becomes: "(not migrated)".to_owned(),
                    note: "only the first step is migrated; copy the job and delete the first step to migrate this one".to_owned(),
                });
            }
            let fields = match steps.first() {
                Some(step) => xml::fields_of(step, &Origin::Job(shown.clone())),
                None => Fields::default(),
            };
            Ok(Job {
                name,
                kind: JobKind::Freestyle,
                fields,
                notes,
            })
        }
        xml::JobXml::Script(script) => {
            // Lines of the script are counted from the line its <script> element starts on.
            let (first, _) = xml::line_col(text, script.offset);
            let (fields, notes) = from_script(path, &script.text, &|line| {
                Origin::Script(format!("{shown} script"), first + line - 1)
            })?;
            Ok(Job {
                name,
                kind: JobKind::Pipeline,
                fields,
                notes,
            })
        }
        xml::JobXml::ScmScript(script_path) => Err(CliError::BadInputs(
            vec![format!(
                "{}: the pipeline's Jenkinsfile is in source control ({}), not in config.xml",
                path.display(),
                script_path.as_deref().unwrap_or("Jenkinsfile")
            )],
            "give that Jenkinsfile with --job (from a checkout of the repository)",
        )),
        xml::JobXml::Nothing => Err(CliError::BadInputs(
            vec![format!(
                "{}: no Qualys step in this job (no <{}> element, no pipeline script)",
                path.display(),
                xml::STEP_CLASS
            )],
            "give the config.xml of a job that uses the plugin's step, or its Jenkinsfile",
        )),
    }
}

/// The fields of the first step call in a script, and notes about the others.
fn from_script(
    path: &Path,
    text: &str,
    origin: &dyn Fn(usize) -> Origin,
) -> Result<(Fields, Vec<Row>), CliError> {
    let calls = groovy::calls(text).map_err(|e| {
        CliError::BadInputs(
            vec![format!(
                "{}:{}:{}: {}",
                path.display(),
                e.line,
                e.column,
                e.message
            )],
            e.hint,
        )
    })?;
    let Some(first) = calls.first() else {
        return Err(CliError::BadInputs(
            vec![format!(
                "{}: no {}(…) call in this pipeline",
                path.display(),
                groovy::STEP
            )],
            "give the Jenkinsfile (or the pipeline job's config.xml) that calls the plugin's step",
        ));
    };
    let mut fields = Fields::default();
    for a in &first.args {
        fields.insert(&a.key, a.value.clone(), origin(a.line));
    }
    let place = |line: usize| match origin(line) {
        Origin::Script(f, l) => format!("{f}:{l}"),
        Origin::Global(f) | Origin::Job(f) => f,
    };
    let notes = calls
        .iter()
        .skip(1)
        .map(|c| Row {
            setting: format!("{} {}", place(c.line), groovy::STEP),
            value: format!("{} parameters", c.args.len()),
            becomes: "(not migrated)".to_owned(),
            note: format!(
                "only the first call ({}) is migrated; migrate a copy holding this call for its own files",
                place(first.line)
            ),
        })
        .collect();
    // `null` means "not given": drop it so that it reads as absent.
    let mut kept = Fields::default();
    for (k, f) in fields.iter() {
        if f.value != Value::Null {
            kept.insert(k, f.value.clone(), f.origin.clone());
        }
    }
    Ok((kept, notes))
}
