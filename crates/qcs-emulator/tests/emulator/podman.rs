//! The sensor watching a real Podman service (started here, storage in a temp dir; the image
//! is imported from a generated rootfs tarball, nothing is pulled).

use crate::common::*;
use qcs_emulator::{EmulatorConfig, SensorTiming, start};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Podman {
    dir: tempfile::TempDir,
    service: Child,
    sock: PathBuf,
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.service.kill();
        let _ = self.service.wait();
    }
}

fn require(tool: &str) {
    let found = ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
    assert!(
        found,
        "`{tool}` is not installed; run `bash scripts/setup/20-podman.sh` as root first"
    );
}

impl Podman {
    fn start() -> Self {
        require("podman");
        require("runc");
        let dir = tempfile::Builder::new()
            .prefix("qcs-emu-")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let sock = dir.path().join("podman.sock");
        let log = std::fs::File::create(dir.path().join("service.log")).expect("log");
        let mut cmd = Self::base(dir.path());
        cmd.args(["system", "service", "--time", "0"])
            .arg(format!("unix://{}", sock.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        let service = cmd.spawn().expect("podman system service starts");
        let p = Podman { dir, service, sock };
        // Wait for the external service to come up (bounded).
        let start = Instant::now();
        while std::os::unix::net::UnixStream::connect(&p.sock).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "podman system service did not come up: {}",
                std::fs::read_to_string(p.dir.path().join("service.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    /// `podman` with this storage and the flags that work on these machines (product.md §7).
    fn base(d: &Path) -> Command {
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("run"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .args([
                "--storage-driver",
                "vfs",
                "--runtime",
                "runc",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ]);
        c
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Self::base(self.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("podman runs");
        assert!(
            out.status.success(),
            "podman {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Imports a tiny rootfs (one file holding `marker`) as `name` (or untagged); returns the id.
    fn import(&self, marker: &str, name: Option<&str>) -> String {
        let root = self.dir.path().join(format!("rootfs-{marker}"));
        std::fs::create_dir_all(root.join("etc")).expect("mkdir");
        std::fs::write(root.join("etc/marker"), marker).expect("write");
        let tar = self.dir.path().join(format!("{marker}.tar"));
        let ok = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .expect("tar");
        assert!(ok.success());
        let tar_s = tar.display().to_string();
        let mut args = vec!["import", "--quiet", tar_s.as_str()];
        if let Some(n) = name {
            args.push(n);
        }
        let id = self.run(&args);
        let id = id
            .lines()
            .last()
            .unwrap_or_default()
            .trim_start_matches("sha256:")
            .to_owned();
        self.run(&["image", "inspect", "--format", "{{.Id}}", &id])
    }

    fn tags(&self, id: &str) -> String {
        self.run(&["image", "inspect", "--format", "{{.RepoTags}}", id])
    }
}

#[tokio::test]
async fn watches_podman_for_scan_tags_registers_and_untags() {
    let podman = Podman::start();
    let app = podman.import("app", Some("localhost/qcs-test/app:1.0"));
    let lonely = podman.import("lonely", None);
    assert_eq!(app.len(), 64);

    let emu = start(EmulatorConfig {
        watch_engine: Some(format!("unix://{}", podman.sock.display())),
        sensor: SensorTiming {
            scan_delay_secs: 5,
            processing_delay_secs: 10,
            watch_interval_ms: 3_600_000,
        },
        // The list is read while the report is processed: `lastScanned` at upload.
        processing_profile: qcs_emulator::ProcessingProfile::LastScannedAtUpload,
        ..config()
    })
    .await
    .expect("start watching");
    assert!(emu.describe().contains("watching"));
    let t = demo_token(&emu).await;

    // No scan tag yet: nothing happens.
    emu.control().watch_now().await.expect("pass");
    emu.control().advance(Duration::from_secs(60));
    let t = {
        let _ = t;
        demo_token(&emu).await
    };
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{app}"))
            .await
            .status()
            .as_u16(),
        404
    );

    podman.run(&["tag", &app, &format!("qualys_scan_target:{app}")]);
    podman.run(&["tag", &lonely, &format!("qualys_scan_target:{lonely}")]);
    emu.control().watch_now().await.expect("pass");
    // Scan started, upload pending: still unknown, tag still there.
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{app}"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert!(podman.tags(&app).contains("qualys_scan_target"));

    emu.control().advance(Duration::from_secs(5));
    emu.control().watch_now().await.expect("pass");
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&app, 5)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{app}")).await).await;
    assert!(d["vulnerabilities"].is_null());
    assert_eq!(d["repo"][0]["registry"], "localhost");
    assert_eq!(d["repo"][0]["repository"], "qcs-test/app");
    assert_eq!(d["repo"][0]["tag"], "1.0");
    // The sensor removed the scan tag (the image has another) but kept the lonely image's.
    let tags = podman.tags(&app);
    assert!(
        !tags.contains("qualys_scan_target") && tags.contains("qcs-test/app:1.0"),
        "{tags}"
    );
    assert!(
        podman.tags(&lonely).contains("qualys_scan_target"),
        "only tag kept"
    );

    emu.control().advance(Duration::from_secs(10));
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{app}")).await).await;
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(25));
    let podman_size: u64 = podman
        .run(&["image", "inspect", "--format", "{{.Size}}", &app])
        .parse()
        .expect("size");
    assert_eq!(d["size"].as_u64(), Some(podman_size));
    assert_eq!(
        json(get(&emu, &t, &format!("/csapi/v1.3/images/{lonely}")).await).await["sha"],
        lonely.as_str()
    );

    // Tagging again starts a new scan (a new lastScanned).
    emu.control().advance(Duration::from_secs(100));
    podman.run(&["tag", &app, &format!("qualys_scan_target:{app}")]);
    emu.control().watch_now().await.expect("pass");
    emu.control().advance(Duration::from_secs(5));
    let t = demo_token(&emu).await;
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&app, 5)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200, "the rescan is recent");
    emu.shutdown().await;
}

#[tokio::test]
async fn unreachable_engine_is_reported_at_start() {
    let e = start(EmulatorConfig {
        watch_engine: Some("unix:///nonexistent/podman.sock".into()),
        ..config()
    })
    .await
    .expect_err("no engine");
    let msg = e.to_string();
    assert!(
        msg.contains("/nonexistent/podman.sock") && msg.contains("hint"),
        "{msg}"
    );
    let e = start(EmulatorConfig {
        watch_engine: Some("ftp://x".into()),
        ..config()
    })
    .await
    .expect_err("scheme");
    assert!(e.to_string().contains("unix://"));
}
