//! The Docker stand-in normalizes references as Docker does (`docker.io/library/x`, `library/x`,
//! `docker.io/x`, ids with and without `sha256:`, unique id prefixes, `latest`, `name@digest`),
//! in lookups, in the `repo`/`tag` of a tag request, in deletes and in list filters; announces API
//! 1.43 and serves versioned paths; and its sensor reacts to the scan tag however it is spelled.
//! Over HTTP on TCP loopback with a frozen clock.

use crate::common::*;
use qcs_emulator::{
    DockerImage, DockerListen, DockerSeed, EmulatorConfig, Phase, ReportSpec, RunningEmulator,
    SensorState, SensorTiming, start,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

/// Ids chosen so that `aaaa` is an ambiguous prefix and `aaaa1`/`aaaa2` are not.
const ID_APP: &str = "aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888";
const ID_API: &str = "aaaa2222bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888";
const ID_LONE: &str = "5ca1ab1e0000111122223333444455556666777788889999aaaabbbbccccdddd";

fn image(id: &str, tags: &[&str]) -> DockerImage {
    DockerImage {
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        report: Some(ReportSpec {
            sha: Some(id.to_owned()),
            vulnerabilities: 3,
            packages: 5,
            ..ReportSpec::default()
        }),
        ..DockerImage::default()
    }
}

/// `app:latest` and `acme/api:1.0`, `acme/api:latest` (two ids sharing the prefix `aaaa`) and an
/// image without tags.
fn seed() -> DockerSeed {
    DockerSeed {
        sensor: SensorState::Running,
        images: vec![
            image(ID_APP, &["docker.io/library/app"]),
            image(ID_API, &["acme/api:1.0", "docker.io/acme/api:latest"]),
            image(ID_LONE, &[]),
        ],
    }
}

struct Stand {
    emu: RunningEmulator,
    base: String,
}

impl Stand {
    async fn start() -> Self {
        let emu = start(EmulatorConfig {
            docker_socket: Some(DockerListen::Tcp(SocketAddr::from(([127, 0, 0, 1], 0)))),
            docker: seed(),
            sensor: SensorTiming {
                scan_delay_secs: 5,
                processing_delay_secs: 10,
                watch_interval_ms: 500,
            },
            ..config()
        })
        .await
        .expect("start");
        let Some(DockerListen::Tcp(addr)) = emu.docker_listen().cloned() else {
            panic!("a TCP stand-in");
        };
        Stand {
            emu,
            base: format!("http://{addr}"),
        }
    }

    async fn call(&self, method: Method, path: &str) -> (u16, Value) {
        let r = self.raw(method, path).await;
        let status = r.status().as_u16();
        let body = r.bytes().await.expect("body");
        let v = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        };
        (status, v)
    }

    async fn raw(&self, method: Method, path: &str) -> reqwest::Response {
        http()
            .request(method, format!("{}{path}", self.base))
            .send()
            .await
            .expect("request to the Docker stand-in")
    }

    /// The id `name` resolves to, or the status when it does not.
    async fn resolve(&self, name: &str) -> Result<String, (u16, Value)> {
        let (s, v) = self
            .call(Method::GET, &format!("/v1.43/images/{name}/json"))
            .await;
        if s == 200 {
            Ok(v["Id"].as_str().expect("Id").to_owned())
        } else {
            Err((s, v))
        }
    }

    async fn repo_tags(&self, name: &str) -> Value {
        let (s, v) = self
            .call(Method::GET, &format!("/images/{name}/json"))
            .await;
        assert_eq!(s, 200, "{name}: {v}");
        v["RepoTags"].clone()
    }

    async fn tag(&self, name: &str, query: &str) -> (u16, Value) {
        self.call(Method::POST, &format!("/v1.43/images/{name}/tag?{query}"))
            .await
    }
}

fn sha256(id: &str) -> String {
    format!("sha256:{id}")
}

#[tokio::test]
async fn lookups_normalize_names_ids_prefixes_and_digests() {
    let s = Stand::start().await;
    for name in [
        "app",
        "app:latest",
        "library/app",
        "library/app:latest",
        "docker.io/app",
        "docker.io/library/app",
        "docker.io/library/app:latest",
        "index.docker.io/library/app",
        ID_APP,
        &sha256(ID_APP),
        &ID_APP[..12],
        &ID_APP[..5],
        &sha256(&ID_APP[..12]),
    ] {
        assert_eq!(s.resolve(name).await, Ok(sha256(ID_APP)), "{name}");
    }
    for name in [
        "acme/api:1.0",
        "docker.io/acme/api:1.0",
        "index.docker.io/acme/api:1.0",
        "acme/api",
        "docker.io/acme/api",
        &ID_API[..5],
    ] {
        assert_eq!(s.resolve(name).await, Ok(sha256(ID_API)), "{name}");
    }
    // RepoTags and RepoDigests in the familiar form, whatever the seed's spelling.
    let (_, app) = s.call(Method::GET, "/images/app/json").await;
    assert_eq!(app["RepoTags"], json!(["app:latest"]));
    let (_, api) = s.call(Method::GET, "/images/acme/api/json").await;
    assert_eq!(api["RepoTags"], json!(["acme/api:1.0", "acme/api:latest"]));
    let digest = api["RepoDigests"][0].as_str().expect("a repository digest");
    let (repo, d) = digest.split_once('@').expect("name@digest");
    assert_eq!(repo, "acme/api");
    assert!(d.starts_with("sha256:") && d.len() == 71, "{digest}");
    for name in [
        format!("acme/api@{d}"),
        format!("docker.io/acme/api@{d}"),
        format!("acme/api:whatever@{d}"),
    ] {
        assert_eq!(s.resolve(&name).await, Ok(sha256(ID_API)), "{name}");
    }
    // Not found, with Docker's wording (the tag made explicit).
    for (name, message) in [
        ("aaaa", "No such image: aaaa:latest"), // an ambiguous prefix
        ("app:1.0", "No such image: app:1.0"),
        ("docker.io/library/nope", "No such image: nope:latest"),
        ("acme/app", "No such image: acme/app:latest"),
        ("localhost/app", "No such image: localhost/app:latest"),
        (
            "other/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "No such image: other/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ),
    ] {
        assert_eq!(
            s.resolve(name).await,
            Err((404, json!({ "message": message }))),
            "{name}"
        );
    }
    let missing = "0".repeat(64);
    assert_eq!(
        s.resolve(&missing).await,
        Err((
            404,
            json!({ "message": format!("No such image: sha256:{missing}") })
        ))
    );
    // What Docker refuses to parse is a 400.
    let (status, v) = s.resolve("App").await.expect_err("upper case");
    assert_eq!(status, 400);
    assert!(
        v["message"]
            .as_str()
            .expect("m")
            .contains("must be lowercase"),
        "{v}"
    );
    assert_eq!(
        s.resolve("app@sha256:abc").await.expect_err("bad digest").0,
        400
    );
    s.emu.shutdown().await;
}

#[tokio::test]
async fn the_scan_tag_is_recognized_however_the_client_spells_it() {
    for (repo, tag, stored) in [
        (
            "qualys_scan_target",
            Some(ID_API),
            format!("qualys_scan_target:{ID_API}"),
        ),
        // The docker CLI 28.
        (
            "docker.io/library/qualys_scan_target",
            Some(ID_API),
            format!("qualys_scan_target:{ID_API}"),
        ),
        (
            "library/qualys_scan_target",
            Some(ID_API),
            format!("qualys_scan_target:{ID_API}"),
        ),
        (
            "docker.io/qualys_scan_target",
            Some(ID_API),
            format!("qualys_scan_target:{ID_API}"),
        ),
        (
            "index.docker.io/library/qualys_scan_target",
            Some(ID_API),
            format!("qualys_scan_target:{ID_API}"),
        ),
        // The tag inside `repo`, and no tag at all (`latest`).
        (
            &*format!("qualys_scan_target:{ID_API}"),
            None,
            format!("qualys_scan_target:{ID_API}"),
        ),
        (
            "qualys_scan_target",
            None,
            "qualys_scan_target:latest".to_owned(),
        ),
    ] {
        let s = Stand::start().await;
        let repo_param = repo.replace('/', "%2F").replace(':', "%3A");
        let query = match tag {
            Some(t) => format!("repo={repo_param}&tag={t}"),
            None => format!("repo={repo_param}"),
        };
        // The source named by a short id with `sha256:`, as some clients do.
        let (status, _) = s.tag(&sha256(&ID_API[..12]), &query).await;
        assert_eq!(status, 201, "{repo}");
        assert_eq!(
            s.repo_tags("acme/api:1.0").await,
            json!(["acme/api:1.0", "acme/api:latest", stored]),
            "stored in the familiar form: {repo} {tag:?}"
        );
        assert_eq!(s.emu.control().phase(ID_API), Phase::Unknown);
        s.emu.control().advance(Duration::from_secs(5));
        assert_eq!(s.emu.control().phase(ID_API), Phase::Processing, "{repo}");
        // At the upload the sensor removes the scan tag: the image has other tags.
        assert_eq!(
            s.repo_tags("acme/api:1.0").await,
            json!(["acme/api:1.0", "acme/api:latest"]),
            "{repo}"
        );
        s.emu.control().advance(Duration::from_secs(10));
        assert_eq!(s.emu.control().phase(ID_API), Phase::Processed, "{repo}");
        let t = demo_token(&s.emu).await;
        let d = json(get(&s.emu, &t, &format!("/csapi/v1.3/images/{ID_API}")).await).await;
        assert_eq!(d["repo"][0]["repository"], "acme/api", "{d}");
        s.emu.shutdown().await;
    }
    // Other repositories are not the scan repository.
    for repo in [
        "localhost/qualys_scan_target",
        "acme/qualys_scan_target",
        "registry.example.com/qualys_scan_target",
        "qualys_scan_target_x",
    ] {
        let s = Stand::start().await;
        let (status, _) = s
            .tag("acme/api:1.0", &format!("repo={repo}&tag={ID_API}"))
            .await;
        assert_eq!(status, 201);
        s.emu.control().advance(Duration::from_secs(60));
        assert_eq!(s.emu.control().phase(ID_API), Phase::Unknown, "{repo}");
        s.emu.shutdown().await;
    }
}

#[tokio::test]
async fn an_only_scan_tag_stays_and_tags_move_between_images() {
    let s = Stand::start().await;
    let (status, _) = s
        .tag(
            ID_LONE,
            &format!("repo=docker.io%2Flibrary%2Fqualys_scan_target&tag={ID_LONE}"),
        )
        .await;
    assert_eq!(status, 201);
    s.emu.control().advance(Duration::from_secs(15));
    assert_eq!(s.emu.control().phase(ID_LONE), Phase::Processed);
    assert_eq!(
        s.repo_tags(ID_LONE).await,
        json!([format!("qualys_scan_target:{ID_LONE}")]),
        "the image's only tag is kept"
    );
    // A tag names one image: tagging another image moves it.
    assert_eq!(s.tag("app", "repo=docker.io/acme/api&tag=1.0").await.0, 201);
    assert_eq!(
        s.repo_tags("app").await,
        json!(["acme/api:1.0", "app:latest"])
    );
    assert_eq!(s.repo_tags(ID_API).await, json!(["acme/api:latest"]));
    // What a tag request may not create.
    for (query, message) in [
        ("tag=1", "repository name must have at least one component"),
        ("repo=Acme&tag=1", "must be lowercase"),
        (
            &*format!("repo={ID_APP}"),
            "cannot specify 64-byte hexadecimal strings",
        ),
        (
            "repo=acme/x%40sha256%3A0000000000000000000000000000000000000000000000000000000000000000",
            "refusing to create a tag with a digest reference",
        ),
        ("repo=acme/x&tag=-bad", "invalid tag format"),
    ] {
        let (status, v) = s.tag("app", query).await;
        assert_eq!(status, 400, "{query}: {v}");
        assert!(
            v["message"].as_str().expect("m").contains(message),
            "{query}: {v}"
        );
    }
    assert_eq!(s.tag("nope", "repo=x").await.0, 404);
    s.emu.shutdown().await;
}

#[tokio::test]
async fn deletes_follow_docker_rules() {
    let s = Stand::start().await;
    // A name removes that reference only.
    let (status, out) = s
        .call(Method::DELETE, "/v1.43/images/docker.io/acme/api")
        .await;
    assert_eq!(
        (status, out),
        (200, json!([{ "Untagged": "acme/api:latest" }]))
    );
    // An id referenced in several repositories needs force.
    assert_eq!(s.tag("acme/api:1.0", "repo=other&tag=2").await.0, 201);
    let (status, v) = s
        .call(Method::DELETE, &format!("/images/{}", &ID_API[..12]))
        .await;
    assert_eq!(status, 409, "{v}");
    assert!(
        v["message"]
            .as_str()
            .expect("m")
            .contains("image is referenced in multiple repositories"),
        "{v}"
    );
    let (status, out) = s
        .call(
            Method::DELETE,
            &format!("/images/{}?force=1", &ID_API[..12]),
        )
        .await;
    assert_eq!(status, 200);
    let out = out.to_string();
    assert!(
        out.contains("\"Untagged\":\"acme/api:1.0\"")
            && out.contains("\"Untagged\":\"other:2\"")
            && out.contains(&format!("\"Deleted\":\"sha256:{ID_API}\"")),
        "{out}"
    );
    // An image's last name deletes it, with its repository digest.
    let (status, out) = s.call(Method::DELETE, "/images/library/app").await;
    assert_eq!(status, 200);
    let out = out.to_string();
    assert!(
        out.contains("\"Untagged\":\"app:latest\"")
            && out.contains("\"Untagged\":\"app@sha256:")
            && out.contains(&format!("\"Deleted\":\"sha256:{ID_APP}\"")),
        "{out}"
    );
    // By full id with `sha256:`: no references, so deleted at once.
    let (status, out) = s
        .call(Method::DELETE, &format!("/images/{}", sha256(ID_LONE)))
        .await;
    assert_eq!(
        (status, out),
        (200, json!([{ "Deleted": sha256(ID_LONE) }]))
    );
    assert_eq!(s.call(Method::GET, "/images/json").await.1, json!([]));
    assert_eq!(s.call(Method::DELETE, "/images/app").await.0, 404);
    s.emu.shutdown().await;
}

#[tokio::test]
async fn image_list_filters_match_familiar_names() {
    let s = Stand::start().await;
    s.tag(
        ID_LONE,
        &format!("repo=docker.io%2Flibrary%2Fqualys_scan_target&tag={ID_LONE}"),
    )
    .await;
    s.tag("app", "repo=qualys_scan_target&tag=x").await;
    let list = |filters: &str| {
        let path = format!(
            "/images/json?filters={}",
            filters
                .replace('{', "%7B")
                .replace('}', "%7D")
                .replace('"', "%22")
                .replace(':', "%3A")
                .replace('[', "%5B")
                .replace(']', "%5D")
        );
        let s = &s;
        async move { s.call(Method::GET, &path).await }
    };
    // The CLI 20.10 sends the older map form, newer clients an array.
    for f in [
        r#"{"reference":{"qualys_scan_target":true}}"#,
        r#"{"reference":["qualys_scan_target"]}"#,
        r#"{"reference":["qualys_*"]}"#,
    ] {
        let (status, v) = list(f).await;
        assert_eq!(status, 200, "{f}: {v}");
        let mut got: Vec<(String, Value)> = v
            .as_array()
            .expect("array")
            .iter()
            .map(|i| {
                (
                    i["Id"].as_str().expect("id").to_owned(),
                    i["RepoTags"].clone(),
                )
            })
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                (
                    sha256(ID_LONE),
                    json!([format!("qualys_scan_target:{ID_LONE}")])
                ),
                (sha256(ID_APP), json!(["qualys_scan_target:x"])),
            ],
            "only the matching names are listed: {f}"
        );
    }
    // Docker matches patterns against the familiar form only.
    assert_eq!(
        list(r#"{"reference":["docker.io/library/qualys_scan_target"]}"#).await,
        (200, json!([]))
    );
    let (_, v) = list(r#"{"reference":["acme/*:1.0"]}"#).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v[0]["RepoTags"], json!(["acme/api:1.0"]));
    let (_, v) = list(r#"{"dangling":["false"]}"#).await;
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    let (status, v) = list(r#"{"since":["app"]}"#).await;
    assert_eq!(status, 400, "{v}");
    s.emu.shutdown().await;
}

#[tokio::test]
async fn api_version_1_43_is_announced_and_versioned_paths_work() {
    let s = Stand::start().await;
    let r = s.raw(Method::GET, "/_ping").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["api-version"],
        "1.43",
        "the CLI negotiates from this"
    );
    assert_eq!(r.headers()["ostype"], "linux");
    assert_eq!(r.text().await.expect("body"), "OK");
    let r = s.raw(Method::HEAD, "/_ping").await;
    assert_eq!(r.headers()["api-version"], "1.43");
    let (status, v) = s.call(Method::GET, "/version").await;
    assert_eq!(status, 200);
    assert_eq!(
        (&v["ApiVersion"], &v["MinAPIVersion"]),
        (&json!("1.43"), &json!("1.12"))
    );
    assert_eq!(v["Components"][0]["Details"]["ApiVersion"], "1.43");
    for v in ["1.12", "1.24", "1.41", "1.43", "1.44", "1.50", "1.51"] {
        let r = s.raw(Method::GET, &format!("/v{v}/images/json")).await;
        assert_eq!(r.status().as_u16(), 200, "/v{v}");
        assert_eq!(r.headers()["api-version"], "1.43");
        assert_eq!(s.resolve("app").await, Ok(sha256(ID_APP)));
        assert_eq!(
            s.call(Method::GET, &format!("/v{v}/version")).await.1["ApiVersion"],
            "1.43"
        );
    }
    let (status, v) = s.call(Method::GET, "/v1.11/version").await;
    assert_eq!(status, 400);
    assert_eq!(
        v["message"],
        "client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version"
    );
    // Errors carry the version header too.
    let r = s.raw(Method::GET, "/v1.43/images/nope/json").await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["api-version"], "1.43");
    s.emu.shutdown().await;
}
