//! Shared helpers: an emulator with a frozen clock on an ephemeral port, and a [`Clock`] that
//! moves the emulator's clock instead of sleeping, so minutes of waiting take milliseconds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcs_emulator::{Control, EmulatorConfig, RunningEmulator, SeedRequest};
use qcs_qualys::clock::Sleep;
use qcs_qualys::{
    Callback, ClientConfig, Clock, Credentials, Gateway, QualysClient, WaitEvent, WaitRequest,
};

pub(crate) use qcs_test_support::emulator::{count, fault};

pub(crate) fn config() -> EmulatorConfig {
    EmulatorConfig {
        // The reading these tests were written against (a processing image is listed);
        // `readiness.rs` runs every profile.
        processing_profile: qcs_emulator::ProcessingProfile::LastScannedAtUpload,
        ..qcs_test_support::emulator::frozen_config()
    }
}

pub(crate) async fn emulator() -> RunningEmulator {
    qcs_test_support::emulator::start(config()).await
}

/// The emulator's clock: `sleep` advances it.
#[derive(Debug)]
pub(crate) struct EmuClock(pub(crate) Control);

impl Clock for EmuClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(i64::try_from(self.0.now_ms()).unwrap()).unwrap()
    }

    fn sleep(&self, d: Duration) -> Sleep<'_> {
        self.0.advance(d);
        Box::pin(tokio::task::yield_now())
    }
}

pub(crate) fn demo_basic() -> Credentials {
    Credentials::Basic {
        username: "qcs-demo".into(),
        password: qcs_qualys::secret::secret("qcs-demo"),
    }
}

pub(crate) fn client_config(emu: &RunningEmulator) -> ClientConfig {
    let mut c = ClientConfig::new(Gateway::explicit(&emu.base_url()).unwrap(), demo_basic());
    c.clock = Arc::new(EmuClock(emu.control().clone()));
    c.request_timeout = Duration::from_secs(2);
    c.rate = qcs_qualys::RateLimit::unlimited();
    c
}

pub(crate) fn client(emu: &RunningEmulator) -> QualysClient {
    QualysClient::new(client_config(emu)).unwrap()
}

/// Seeds a generated image: uploaded after `upload` s, processed `processing` s later.
pub(crate) fn seed(emu: &RunningEmulator, seed: u64, upload: u64, processing: u64) -> String {
    let (sha, _) = emu
        .control()
        .seed_image(SeedRequest {
            generate: Some(qcs_emulator::ReportSpec {
                seed,
                vulnerabilities: 5,
                packages: 10,
                ..qcs_emulator::ReportSpec::default()
            }),
            timing: qcs_emulator::LifecycleRequest {
                upload_in_secs: upload,
                processing_secs: processing,
                ..Default::default()
            },
            ..SeedRequest::default()
        })
        .unwrap();
    sha
}

pub(crate) fn now(emu: &RunningEmulator) -> jiff::Timestamp {
    EmuClock(emu.control().clone()).now()
}

pub(crate) fn request(emu: &RunningEmulator, sha: &str) -> WaitRequest {
    WaitRequest {
        sha: sha.to_owned(),
        tagged_at: now(emu),
    }
}

/// A callback that records every event.
pub(crate) fn recorder() -> (Callback, Arc<Mutex<Vec<WaitEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (
        Arc::new(move |ev: &WaitEvent| e.lock().unwrap().push(ev.clone())),
        events,
    )
}
