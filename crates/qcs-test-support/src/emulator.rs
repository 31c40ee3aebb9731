//! The emulator as the library tests start it: on an ephemeral loopback port with its clock
//! frozen at [`T0`], so that a test moves time itself instead of sleeping; and what the tests
//! ask of it (a fault rule, a request count).

use qcs_emulator::{EmulatorConfig, FaultAction, FaultRule, RunningEmulator};

/// The frozen start time of the tests' emulator: 2024-06-01T12:00:00Z, in epoch ms.
pub const T0: u64 = 1_717_243_200_000;

/// The default emulator on `127.0.0.1:0` with its clock frozen at [`T0`]; change fields with
/// struct update syntax.
pub fn frozen_config() -> EmulatorConfig {
    EmulatorConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        frozen_clock_ms: Some(T0),
        ..EmulatorConfig::default()
    }
}

/// Starts `config`.
///
/// # Panics
/// When the emulator cannot start (a failed setup fails the test).
pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    qcs_emulator::start(config)
        .await
        .unwrap_or_else(|e| panic!("the emulator starts: {e}"))
}

/// A fault on `endpoint` (a request-log key: `auth`, `images`, `images/{id}`, …) that fires
/// `times` times (`None`: always), every time it may.
pub fn fault(endpoint: &str, action: FaultAction, times: Option<u32>) -> FaultRule {
    FaultRule {
        endpoint: endpoint.into(),
        action,
        times,
        probability: None,
    }
}

/// How many requests the emulator logged for an endpoint key (`auth`, `images`, `images/{id}`,
/// `docker/images/tag`, …).
pub fn count(emu: &RunningEmulator, endpoint: &str) -> u64 {
    emu.control()
        .requests()
        .counts
        .get(endpoint)
        .copied()
        .unwrap_or(0)
}
