//! The Qualys CI/CD sensor check: which container is the sensor, and whether it is running,
//! not paused, and started in CI/CD mode (`--cicd-deployed-sensor` or `-c`).

use crate::error::EngineError;

/// Docker/Podman: the label whose value names the sensor.
pub const SENSOR_LABEL: &str = "VersionInfo";
/// Docker/Podman: the text the [`SENSOR_LABEL`] value contains on a sensor container.
pub const SENSOR_LABEL_TEXT: &str = "Qualys Sensor";
/// containerd (Kubernetes): the label naming the container.
pub const K8S_CONTAINER_NAME_LABEL: &str = "io.kubernetes.container.name";
/// containerd (Kubernetes): the sensor container's name.
pub const K8S_SENSOR_NAME: &str = "qualys-container-sensor";
/// The flags that start the sensor in CI/CD mode.
pub const CICD_FLAGS: [&str; 2] = ["--cicd-deployed-sensor", "-c"];

/// The sensor container that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorInfo {
    /// The container id.
    pub id: String,
    /// The container name (or the id when it has none).
    pub name: String,
    /// The sensor's version label (`VersionInfo`), when present.
    pub version: Option<String>,
    /// The command line: entrypoint/path then arguments.
    pub command: Vec<String>,
}

/// The run state of a sensor candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SensorState {
    /// Running.
    Running,
    /// Paused (or pausing).
    Paused,
    /// Anything else (created, exited, stopped, no task), as the engine names it.
    Other(String),
}

/// A container that looks like the sensor, with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorCandidate {
    /// What we know of it.
    pub info: SensorInfo,
    /// Its state.
    pub state: SensorState,
}

/// Whether a command line starts the sensor in CI/CD mode: one argument is `--cicd-deployed-sensor`
/// (or `--cicd-deployed-sensor=…`) or `-c`.
pub fn is_cicd(command: &[String]) -> bool {
    command
        .iter()
        .any(|a| CICD_FLAGS.contains(&a.as_str()) || a.starts_with("--cicd-deployed-sensor="))
}

/// Whether a `VersionInfo` label value marks the sensor.
pub fn is_sensor_label(value: &str) -> bool {
    value.contains(SENSOR_LABEL_TEXT)
}

/// Judges the candidates found on the engine at `url`: a running one in CI/CD mode passes; else
/// the most telling failure (running but not CI/CD, then paused, then not running, then missing).
pub fn judge(
    url: &str,
    candidates: Vec<SensorCandidate>,
    looked_for: &str,
) -> Result<SensorInfo, EngineError> {
    let (running, others): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|c| c.state == SensorState::Running);
    if let Some(ok) = running.iter().find(|c| is_cicd(&c.info.command)) {
        return Ok(ok.info.clone());
    }
    if let Some(c) = running.first() {
        return Err(EngineError::SensorNotCicd {
            url: url.to_owned(),
            container: c.info.name.clone(),
            command: c.info.command.join(" "),
        });
    }
    if let Some(c) = others.iter().find(|c| c.state == SensorState::Paused) {
        return Err(EngineError::SensorPaused {
            url: url.to_owned(),
            container: c.info.name.clone(),
        });
    }
    if let Some(c) = others.first() {
        let state = match &c.state {
            SensorState::Other(s) => s.clone(),
            SensorState::Running | SensorState::Paused => String::new(),
        };
        return Err(EngineError::SensorMissing {
            url: url.to_owned(),
            detail: format!("container `{}` is {state}", c.info.name),
        });
    }
    Err(EngineError::SensorMissing {
        url: url.to_owned(),
        detail: format!("no container {looked_for}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, state: SensorState, cmd: &[&str]) -> SensorCandidate {
        SensorCandidate {
            info: SensorInfo {
                id: format!("id-{name}"),
                name: name.into(),
                version: Some("Qualys Sensor 1.x".into()),
                command: cmd.iter().map(|s| (*s).to_owned()).collect(),
            },
            state,
        }
    }

    #[test]
    fn cicd_flags_are_recognised_as_whole_arguments() {
        let v = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(is_cicd(&v(&["/usr/bin/sensor", "--cicd-deployed-sensor"])));
        assert!(is_cicd(&v(&["/usr/bin/sensor", "-c"])));
        assert!(is_cicd(&v(&["sensor", "--cicd-deployed-sensor=true"])));
        assert!(!is_cicd(&v(&["sensor", "--cicd"])));
        assert!(!is_cicd(&v(&["sensor", "-cx"])));
        assert!(!is_cicd(&[]));
    }

    #[test]
    fn a_running_cicd_sensor_wins_over_others() {
        let got = judge(
            "unix:///s",
            vec![
                cand("old", SensorState::Paused, &["s", "-c"]),
                cand("general", SensorState::Running, &["s"]),
                cand("cicd", SensorState::Running, &["s", "-c"]),
            ],
            "x",
        )
        .unwrap();
        assert_eq!(got.name, "cicd");
    }

    #[test]
    fn each_failure_has_its_own_error() {
        let e = judge(
            "unix:///s",
            vec![cand("g", SensorState::Running, &["s"])],
            "x",
        )
        .unwrap_err();
        assert!(matches!(e, EngineError::SensorNotCicd { .. }), "{e}");
        let e = judge(
            "unix:///s",
            vec![cand("p", SensorState::Paused, &["s", "-c"])],
            "x",
        )
        .unwrap_err();
        assert!(matches!(e, EngineError::SensorPaused { .. }), "{e}");
        let e = judge(
            "unix:///s",
            vec![cand("e", SensorState::Other("exited".into()), &["s", "-c"])],
            "x",
        )
        .unwrap_err();
        assert!(e.to_string().contains("container `e` is exited"), "{e}");
        let e = judge("unix:///s", vec![], "labelled VersionInfo").unwrap_err();
        assert!(
            e.to_string().contains("no container labelled VersionInfo"),
            "{e}"
        );
        assert_eq!(e.exit_code().code(), 3);
    }
}
