//! The `[engine]` settings: which container engine to use and whether to check the Qualys
//! sensor on it. The URL comes from `--engine`, then `DOCKER_HOST`, then `[engine] host`, then
//! `qcs_engine::DEFAULT_HOST` (`unix:///var/run/docker.sock`; Docker's named pipe on Windows);
//! the TLS directory from `--cert-dir`, then `DOCKER_CERT_PATH` (or `$HOME/.docker` with
//! `DOCKER_TLS_VERIFY`), then `[engine] cert-dir`.

use qcs_engine::{DEFAULT_HOST, DEFAULT_NAMESPACE, EngineConfig};

use super::{EnvLookup, Source, config_error, config_str, pick, relative_to_config, table};
use crate::cli::EngineArgs;
use crate::config::ConfigFile;
use crate::env;
use crate::error::CliError;

/// The resolved engine settings.
#[derive(Debug, Clone)]
pub(crate) struct EngineSettings {
    /// What `qcs_engine::connect` gets.
    pub(crate) config: EngineConfig,
    /// Where the URL came from.
    pub(crate) host_source: Source,
    /// Where the TLS directory came from (default: none).
    pub(crate) cert_dir_source: Source,
    /// Where the containerd namespace came from.
    pub(crate) namespace_source: Source,
    /// Check the sensor before tagging.
    pub(crate) sensor_check: bool,
    /// Where that came from.
    pub(crate) sensor_check_source: Source,
}

impl EngineSettings {
    /// An engine fixed by the program (`qcs demo`): this URL, sensor check on.
    pub(crate) fn fixed(host: String) -> Self {
        EngineSettings {
            config: EngineConfig::new(host),
            host_source: Source::Default,
            cert_dir_source: Source::Default,
            namespace_source: Source::Default,
            sensor_check: true,
            sensor_check_source: Source::Default,
        }
    }
}

/// Resolves the engine settings and checks the URL (a bad one is a configuration error).
pub(crate) fn resolve(
    args: &EngineArgs,
    file: Option<&ConfigFile>,
    env: EnvLookup<'_>,
) -> Result<EngineSettings, CliError> {
    let t = table(file, "engine", crate::config::ENGINE_KEYS)?;
    let cs = |k: &str| config_str(file, &t, "engine", k);

    let (host, host_source) = pick(
        args.engine.as_deref(),
        "--engine",
        env::DOCKER_HOST,
        env,
        cs("host")?,
        "[engine] host",
    )
    .unwrap_or_else(|| (DEFAULT_HOST.to_owned(), Source::Default));

    // DOCKER_CERT_PATH, or $HOME/.docker with DOCKER_TLS_VERIFY, as qcs-engine reads them.
    let from_env = EngineConfig::from_lookup(|name| env(name));
    let env_cert_source = if env(env::DOCKER_CERT_PATH).is_some() {
        Source::Env(env::DOCKER_CERT_PATH)
    } else {
        Source::Env(env::DOCKER_TLS_VERIFY)
    };
    let (cert_dir, cert_dir_source) = match (&args.cert_dir, from_env.cert_dir, cs("cert-dir")?) {
        (Some(d), _, _) => (Some(d.clone()), Source::Flag("--cert-dir")),
        (None, Some(d), _) => (Some(d), env_cert_source),
        (None, None, Some(d)) => {
            let src = Source::Config("[engine] cert-dir".into());
            (Some(relative_to_config(&src, file, &d)), src)
        }
        (None, None, None) => (None, Source::Default),
    };

    let (namespace, namespace_source) =
        match (args.namespace.as_deref().map(str::trim), cs("namespace")?) {
            (Some(n), _) if !n.is_empty() => (n.to_owned(), Source::Flag("--namespace")),
            (_, Some(n)) => (n, Source::Config("[engine] namespace".into())),
            _ => (DEFAULT_NAMESPACE.to_owned(), Source::Default),
        };

    let (sensor_check, sensor_check_source) = if args.skip_sensor_check {
        (false, Source::Flag("--skip-sensor-check"))
    } else {
        match t.get("sensor-check") {
            None => (true, Source::Default),
            Some(toml::Value::Boolean(b)) => (*b, Source::Config("[engine] sensor-check".into())),
            Some(other) => {
                return Err(config_error(
                    file,
                    &format!(
                        "[engine] sensor-check is a {}, not true or false",
                        other.type_str()
                    ),
                    "write sensor-check = false to skip the sensor check (or --skip-sensor-check)",
                ));
            }
        }
    };

    let mut config = EngineConfig::new(host).with_namespace(namespace);
    config.cert_dir = cert_dir;
    // A URL that cannot work here is a configuration error, found before any I/O (and before
    // the outputs are prepared, so such a run leaves no summary.json).
    config.usable_endpoint()?;
    Ok(EngineSettings {
        config,
        host_source,
        cert_dir_source,
        namespace_source,
        sensor_check,
        sensor_check_source,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::settings::tests::{cfg, env_of};

    #[test]
    fn flag_then_docker_host_then_config_then_default() {
        let none = env_of(&[]);
        let s = resolve(&EngineArgs::default(), None, &none).unwrap();
        assert_eq!(
            (s.config.host.as_str(), &s.host_source),
            (DEFAULT_HOST, &Source::Default)
        );
        assert!(s.sensor_check);
        let c = cfg(
            "[engine]\nhost = \"tcp://build:2376\"\ncert-dir = \"certs\"\nnamespace = \"ci\"\nsensor-check = false\n",
        );
        let s = resolve(&EngineArgs::default(), Some(&c), &none).unwrap();
        assert_eq!(s.config.host, "tcp://build:2376");
        assert_eq!(
            s.config.cert_dir.as_deref(),
            Some(Path::new("/etc/qcs/certs"))
        );
        assert_eq!(s.config.namespace, "ci");
        assert!(!s.sensor_check);
        let e = env_of(&[
            ("DOCKER_HOST", "unix:///run/podman/podman.sock"),
            ("DOCKER_CERT_PATH", "/env-certs"),
        ]);
        let s = resolve(&EngineArgs::default(), Some(&c), &e).unwrap();
        assert_eq!(s.config.host, "unix:///run/podman/podman.sock");
        assert_eq!(s.host_source, Source::Env("DOCKER_HOST"));
        assert_eq!(s.config.cert_dir.as_deref(), Some(Path::new("/env-certs")));
        let a = EngineArgs {
            engine: Some("containerd:///run/containerd/containerd.sock".into()),
            skip_sensor_check: true,
            ..EngineArgs::default()
        };
        let s = resolve(&a, Some(&c), &e).unwrap();
        assert_eq!(s.host_source, Source::Flag("--engine"));
        assert_eq!(s.sensor_check_source, Source::Flag("--skip-sensor-check"));
    }

    #[test]
    fn docker_tls_verify_means_home_docker() {
        let e = env_of(&[
            ("DOCKER_HOST", "tcp://build:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("HOME", "/home/ci"),
        ]);
        let s = resolve(&EngineArgs::default(), None, &e).unwrap();
        assert_eq!(
            s.config.cert_dir.as_deref(),
            Some(Path::new("/home/ci/.docker"))
        );
        assert_eq!(s.cert_dir_source, Source::Env("DOCKER_TLS_VERIFY"));
    }

    #[test]
    fn mistakes_are_configuration_errors() {
        let none = env_of(&[]);
        for text in [
            "[engine]\nsocket = \"/x.sock\"\n",
            "[engine]\nsensor-check = \"no\"\n",
            "[engine]\nhost = \"ssh://build\"\n",
        ] {
            let e = resolve(&EngineArgs::default(), Some(&cfg(text)), &none).unwrap_err();
            assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::Config, "{text}");
        }
        let a = EngineArgs {
            engine: Some("tcp://host".into()),
            ..EngineArgs::default()
        };
        let e = resolve(&a, None, &none).unwrap_err();
        assert!(e.to_string().contains("tcp://host"), "{e}");
    }
}
