//! Version ordering for software filters: table tests with real distribution version strings,
//! `Ecosystem::detect`, and property tests that every ordering is a total order that never panics.

use std::cmp::Ordering::{self, Equal, Greater, Less};

use proptest::prelude::*;
use qcs_core::version::{Ecosystem, compare};

/// Asserts `compare(a, b) == expected` and `compare(b, a) == expected.reverse()`.
fn check(ecosystem: Ecosystem, cases: &[(&str, Ordering, &str)]) {
    for &(a, expected, b) in cases {
        assert_eq!(
            compare(ecosystem, a, b),
            expected,
            "{}: {a:?} vs {b:?}",
            ecosystem.name()
        );
        assert_eq!(
            compare(ecosystem, b, a),
            expected.reverse(),
            "{}: {b:?} vs {a:?} (reverse)",
            ecosystem.name()
        );
    }
}

#[test]
fn dpkg_real_versions() {
    check(
        Ecosystem::Dpkg,
        &[
            ("1:2.30-1ubuntu1", Greater, "2.31"),
            ("1.0~rc1-1", Less, "1.0-1"),
            ("3.0.2-0ubuntu1.12", Less, "3.0.2-0ubuntu1.14"),
            ("1.1.1f-1ubuntu2.3", Less, "1.1.1f-1ubuntu2.20"),
            ("2.36.1-8+deb11u1", Less, "2.36.1-8+deb11u2"),
            ("7.88.1-10", Less, "7.88.1-10+deb12u5"),
            ("1.2.13.dfsg-1", Less, "1:1.2.13.dfsg-1"),
            ("252.22-1~deb12u1", Less, "252.22-1"),
            ("2.7.4-1", Less, "2.7.4-1.1"),
            ("1.0+b1", Less, "1.0.1"),
            ("1.0", Less, "1.0a"),
            ("1.0~", Less, "1.0"),
            ("1.0~~", Less, "1.0~"),
            ("1.0", Equal, "1.0-0"),
            ("0:1.0-1", Equal, "1.0-1"),
            ("3.0.2-0ubuntu1.10", Greater, "3.0.2-0ubuntu1.9"),
            ("2.35-0ubuntu3.6", Less, "2.35-0ubuntu3.7"),
            ("1:9.18.24-1", Greater, "9.18.28-1"),
        ],
    );
}

#[test]
fn dpkg_invalid_versions_sort_first() {
    check(
        Ecosystem::Dpkg,
        &[
            ("", Less, "0"),
            ("not a version", Less, "0.1"),
            ("1.0_1", Less, "0.1"),
            ("x y", Less, "x y 2"),
            ("é1", Less, "1.0"),
        ],
    );
}

#[test]
fn rpm_real_versions() {
    check(
        Ecosystem::Rpm,
        &[
            ("1.1.1k-7.el8_6", Less, "1.1.1k-12.el8_9"),
            ("4.8.0-55.el6", Greater, "4.8.0-5.el6"),
            ("0.9.8e-27.el5_10.1", Less, "1.0.1e-30.el6"),
            ("1:1.0-1", Greater, "2.0-1"),
            ("0:1.0-1", Equal, "1.0-1"),
            ("2.02-156.el8", Less, "1:2.02-156.el8"),
            ("1.0~rc1-1", Less, "1.0-1"),
            ("1.0~rc1", Less, "1.0~rc2"),
            ("1.0^20230101-1", Greater, "1.0-1"),
            ("1.0^git1", Less, "1.0.1"),
            ("1.0a", Greater, "1.0"),
            ("1.0a", Less, "1.0.1"),
            ("3.6.8-51.el8_8.1", Less, "3.6.8-56.el8_9.3"),
            ("5.14.0-362.8.1.el9_3", Less, "5.14.0-362.13.1.el9_3"),
            ("2.0.7-1.amzn2023.0.2", Less, "2.0.7-1.amzn2023.0.10"),
            ("1.2.11-40.el9", Greater, "1.2.11-39.el9"),
            ("1.0-01", Equal, "1.0-1"),
            ("1.0_1", Equal, "1.0.1"),
            ("1.0", Less, "1.0-1"),
            ("3.0.7-27.el9", Less, "1:3.0.7-16.el9"),
        ],
    );
}

#[test]
fn apk_real_versions() {
    check(
        Ecosystem::Apk,
        &[
            ("1.36.1-r2", Less, "1.36.1-r15"),
            ("3.1.4_rc1-r0", Less, "3.1.4-r0"),
            ("2.0_p1", Greater, "2.0"),
            ("2.0_p1", Greater, "2.0-r5"),
            ("1.1_alpha1", Less, "1.1"),
            ("1.3_alpha2", Less, "1.3_alpha3"),
            ("0.8_beta4", Less, "0.8_pre1"),
            ("0.8_pre1", Less, "0.8_rc1"),
            ("1.0_cvs1", Less, "1.0_svn1"),
            ("1.0_git20230101", Less, "1.0_hg1"),
            ("2.3.0b-r1", Less, "2.3.0b-r2"),
            ("2.3.0b", Greater, "2.3.0"),
            ("2.3.0b", Less, "2.3.1"),
            ("3.0.13-r0", Greater, "3.0.12-r3"),
            ("1.01", Less, "1.1"),
            ("1.0", Less, "1.0bc"),
            ("23_foo", Greater, "4_beta"),
            (
                "1.2.4_git20240101~abc123-r0",
                Greater,
                "1.2.4_git20240101-r0",
            ),
            ("1.36.1-r2", Equal, "1.36.1-r2"),
            ("", Less, "0"),
        ],
    );
}

#[test]
fn maven_real_versions() {
    check(
        Ecosystem::Maven,
        &[
            ("2.14.1", Less, "2.17.1"),
            ("2.0-alpha-1", Less, "2.0"),
            ("2.0-alpha-1", Less, "2.0-alpha-2"),
            ("2.0-alpha-2", Less, "2.0-beta-1"),
            ("2.0-beta-1", Less, "2.0-M1"),
            ("2.0-M1", Less, "2.0-RC1"),
            ("2.0-RC1", Equal, "2.0-cr1"),
            ("2.0-RC1", Less, "2.0-SNAPSHOT"),
            ("2.17.1-SNAPSHOT", Less, "2.17.1"),
            ("1.0.RELEASE", Equal, "1.0"),
            ("5.3.20.RELEASE", Less, "5.3.27.RELEASE"),
            ("4.1.94.Final", Less, "4.1.100.Final"),
            ("1.0.0.Final", Equal, "1"),
            ("2.0-ga", Equal, "2.0.0"),
            ("2.0", Less, "2.0-sp1"),
            ("2.0-sp1", Less, "2.0-1"),
            ("2.0-1", Less, "2.0.1"),
            ("31.1-android", Less, "31.1-jre"),
            ("31.1-jre", Greater, "31.1"),
            ("1.0alpha1", Equal, "1.0-alpha-1"),
            ("1.0-a1", Equal, "1.0-alpha1"),
            ("9.4.51.v20230217", Less, "9.4.52.v20230823"),
            ("2.13.4.2", Greater, "2.13.4"),
            ("1.2.3.Beta1", Less, "1.2.3"),
            // Maven 3.8.7 orders these in a cycle (1 < 1-sp < 1-0-alpha < 1); here they are total.
            ("1", Less, "1-sp"),
            ("1-0-alpha", Less, "1"),
            ("1-0-alpha", Less, "1-sp"),
        ],
    );
}

#[test]
fn semver_real_versions() {
    check(
        Ecosystem::Semver,
        &[
            ("1.2.3-rc.1", Less, "1.2.3"),
            ("1.0.0-alpha", Less, "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", Less, "1.0.0-alpha.beta"),
            ("1.0.0-alpha.beta", Less, "1.0.0-beta"),
            ("1.0.0-beta.2", Less, "1.0.0-beta.11"),
            ("1.0.0-rc.1", Less, "1.0.0"),
            ("1.0.0+build.5", Equal, "1.0.0+build.7"),
            ("v1.2", Equal, "1.2.0"),
            ("V1", Equal, "1.0.0"),
            ("v1.2", Less, "1.2.1"),
            ("1.9.0", Less, "1.10.0"),
            ("0.26.1", Less, "1.0.0-rc.1"),
            ("1.2.3", Less, "1.2.3.4"),
            ("1.2.3.4", Less, "1.2.4"),
            ("1.2.3-rc.1", Less, "1.2.3.4"),
            ("1.0.1f", Less, "1.0.1g"),
            ("1.0.1k", Greater, "1.0.1"),
            ("2024-01-05", Less, "2024-01-12"),
            ("", Less, "0.0.1"),
            ("abc", Less, "abd"),
        ],
    );
}

#[test]
fn detect_from_operating_system() {
    use Ecosystem::{Apk, Dpkg, Maven, Rpm, Semver};
    let cases = [
        (Some("Ubuntu Linux 22.04.4"), "openssl", Dpkg),
        (Some("Debian Linux 12"), "libc6", Dpkg),
        (Some("Alpine Linux 3.19.1"), "busybox", Apk),
        (Some("Red Hat Enterprise Linux 9.3"), "openssl-libs", Rpm),
        (Some("CentOS Linux 7.9.2009"), "glibc", Rpm),
        (Some("Amazon Linux 2"), "curl", Rpm),
        (Some("Amazon Linux 2023"), "curl", Rpm),
        (Some("Rocky Linux 9.3"), "bash", Rpm),
        (Some("AlmaLinux 9.3"), "bash", Rpm),
        (Some("Oracle Linux 8.9"), "bash", Rpm),
        (Some("SUSE Linux Enterprise Server 15 SP5"), "zlib", Rpm),
        (Some("openSUSE Leap 15.5"), "zlib", Rpm),
        (Some("Fedora Linux 39"), "zlib", Rpm),
        (Some("UBUNTU LINUX 20.04"), "zlib", Dpkg),
        (Some("alpine linux 3.18"), "zlib", Apk),
        (Some("Windows Server 2022"), "zlib", Semver),
        (Some(""), "zlib", Semver),
        (None, "zlib", Semver),
        (
            Some("Ubuntu Linux 22.04.4"),
            "org.apache.logging.log4j:log4j-core",
            Maven,
        ),
        (Some("Alpine Linux 3.19.1"), "com.google.guava:guava", Maven),
        (None, "com.fasterxml.jackson.core:jackson-databind", Maven),
    ];
    for (os, package, expected) in cases {
        assert_eq!(
            Ecosystem::detect(os, package),
            expected,
            "{os:?} {package:?}"
        );
    }
}

#[test]
fn names() {
    let names: Vec<_> = [
        Ecosystem::Dpkg,
        Ecosystem::Rpm,
        Ecosystem::Apk,
        Ecosystem::Maven,
        Ecosystem::Semver,
    ]
    .into_iter()
    .map(Ecosystem::name)
    .collect();
    assert_eq!(names, ["dpkg", "rpm", "apk", "maven", "semver"]);
}

#[test]
fn surrounding_whitespace_is_ignored() {
    for ecosystem in ALL {
        assert_eq!(
            compare(ecosystem, " 1.2.3 ", "1.2.3"),
            Equal,
            "{}",
            ecosystem.name()
        );
    }
}

const ALL: [Ecosystem; 5] = [
    Ecosystem::Dpkg,
    Ecosystem::Rpm,
    Ecosystem::Apk,
    Ecosystem::Maven,
    Ecosystem::Semver,
];

// ---------------------------------------------------------------------------------------------
// Properties: reflexive, antisymmetric, transitive, never panics.
// ---------------------------------------------------------------------------------------------

/// Checks the three properties on one triple (transitivity over all six orderings of it).
fn assert_total(ecosystem: Ecosystem, a: &str, b: &str, c: &str) -> Result<(), TestCaseError> {
    let cmp = |x: &str, y: &str| compare(ecosystem, x, y);
    for x in [a, b, c] {
        prop_assert_eq!(cmp(x, x), Equal, "reflexive: {:?}", x);
    }
    for (x, y) in [(a, b), (b, c), (a, c)] {
        prop_assert_eq!(
            cmp(x, y),
            cmp(y, x).reverse(),
            "antisymmetric: {:?} {:?}",
            x,
            y
        );
    }
    for (x, y, z) in [
        (a, b, c),
        (a, c, b),
        (b, a, c),
        (b, c, a),
        (c, a, b),
        (c, b, a),
    ] {
        let (xy, yz, xz) = (cmp(x, y), cmp(y, z), cmp(x, z));
        if xy != Greater && yz != Greater {
            let expected = if xy == Equal && yz == Equal {
                Equal
            } else {
                Less
            };
            prop_assert_eq!(
                xz,
                expected,
                "transitive: {:?} {:?} {:?} ({:?} {:?})",
                x,
                y,
                z,
                xy,
                yz
            );
        }
    }
    Ok(())
}

/// A version-like string of the ecosystem or, one time in four, an arbitrary string.
fn versions(shaped: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    prop_oneof![
        6 => shaped,
        1 => "[0-9a-z.:~^_+-]{0,6}",
        1 => any::<String>(),
    ]
    .boxed()
}

fn dpkg_versions() -> BoxedStrategy<String> {
    versions("([0-2]:)?[0-9]{1,2}([.+~][0-9a-c]{1,2}){0,3}[~]?(-[0-9][a-z0-9.+~]{0,4})?")
}

fn rpm_versions() -> BoxedStrategy<String> {
    versions("([0-2]:)?[0-9]{1,2}([._~^+][0-9a-c]{1,2}){0,3}(-[0-9a-c.~^_]{0,5})?")
}

fn apk_versions() -> BoxedStrategy<String> {
    versions(
        "0?[0-9]{1,2}(\\.0?[0-9]){0,3}[a-c]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p|x)[0-9]?){0,2}\
         (~[0-9a-f]{1,3})?(-r[0-9]{0,2})?",
    )
}

fn maven_versions() -> BoxedStrategy<String> {
    versions(
        "[0-9]{0,2}([.-]?([0-9]{1,2}|0|alpha|beta|[abm]|rc|cr|snapshot|ga|final|release|sp|jre|RC|\
         Final)){0,5}[.-]?",
    )
}

fn semver_versions() -> BoxedStrategy<String> {
    versions(
        "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-[0-9a-c]{1,2}(\\.[0-9a-c]{1,2}){0,2})?\
         (\\+[0-9a-c.]{1,3})?[a-c]?",
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn dpkg_is_a_total_order(a in dpkg_versions(), b in dpkg_versions(), c in dpkg_versions()) {
        assert_total(Ecosystem::Dpkg, &a, &b, &c)?;
    }

    #[test]
    fn rpm_is_a_total_order(a in rpm_versions(), b in rpm_versions(), c in rpm_versions()) {
        assert_total(Ecosystem::Rpm, &a, &b, &c)?;
    }

    #[test]
    fn apk_is_a_total_order(a in apk_versions(), b in apk_versions(), c in apk_versions()) {
        assert_total(Ecosystem::Apk, &a, &b, &c)?;
    }

    #[test]
    fn maven_is_a_total_order(a in maven_versions(), b in maven_versions(), c in maven_versions()) {
        assert_total(Ecosystem::Maven, &a, &b, &c)?;
    }

    #[test]
    fn semver_is_a_total_order(
        a in semver_versions(),
        b in semver_versions(),
        c in semver_versions(),
    ) {
        assert_total(Ecosystem::Semver, &a, &b, &c)?;
    }

    #[test]
    fn any_strings_never_panic(a in any::<String>(), b in "\\PC{0,12}", c in ".{0,12}") {
        for ecosystem in ALL {
            assert_total(ecosystem, &a, &b, &c)?;
        }
    }
}
