//! Reading Jenkins' XML: the plugin's global configuration (`QualysGlobalConfig.xml`), a job's
//! `config.xml` (the freestyle step's element, or a pipeline's script) and the credential types
//! of `credentials.xml`. Jenkins saves these with `XStream`: one element per field, named after it,
//! holding the value as text; a field that is null is left out; a `Secret` is its encrypted form
//! (`{AQAAAB…}`), which only that Jenkins can read.
//!
//! quick-xml reads the text into a small element tree (the files are small); the queries are
//! plain functions over it, so they are unit-tested without files.

use std::collections::BTreeMap;

pub(crate) use qcs_core::policy::file::line_col;
use quick_xml::events::Event;

use super::model::{Fields, Origin, Value};

/// The element of the plugin's build step (freestyle jobs; also the pipeline step's class).
pub(crate) const STEP_CLASS: &str = "com.qualys.plugins.containerSecurity.GetImageVulnsNotifier";
/// A pipeline whose script is in the job's `config.xml`.
const INLINE_PIPELINE: &str = "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition";
/// A pipeline whose Jenkinsfile comes from source control.
const SCM_PIPELINE: &str = "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition";

/// An element: its name, attributes, direct text and children.
#[derive(Debug, Default)]
pub(crate) struct Element {
    /// The tag name.
    pub(crate) name: String,
    /// Attributes by name.
    pub(crate) attrs: BTreeMap<String, String>,
    /// The text directly inside (entities resolved, CDATA included).
    pub(crate) text: String,
    /// Child elements, in order.
    pub(crate) children: Vec<Element>,
    /// Byte offset of the start tag.
    pub(crate) offset: usize,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every element named `name` in the subtree (this one included), in document order.
    pub(crate) fn find_all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.find_all(name, out);
        }
    }
}

/// XML that cannot be read: what and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError {
    /// What is wrong.
    pub(crate) message: String,
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column.
    pub(crate) column: usize,
}

/// Parses a whole document into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let error_at = |offset: u64, message: String| {
        let (line, column) = line_col(text, usize::try_from(offset).unwrap_or(usize::MAX));
        XmlError {
            message,
            line,
            column,
        }
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| error_at(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() && stack.is_empty() => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(error_at(
                    at,
                    format!("a second root element <{name}> after the first one"),
                ));
            }
            Event::Start(e) => stack.push(start(&e, at, &error_at)?),
            Event::Empty(e) => {
                let el = start(&e, at, &error_at)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end tags match their start tags.
                if let Some(el) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    let s = t.xml10_content().map_err(|e| error_at(at, e.to_string()))?;
                    el.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(el) = stack.last_mut() {
                    let name = r.decode().map_err(|e| error_at(at, e.to_string()))?;
                    let entity = format!("&{name};");
                    let s = quick_xml::escape::unescape(&entity)
                        .map_err(|e| error_at(at, format!("unknown entity {entity}: {e}")))?;
                    el.text.push_str(&s);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(error_at(
            text.len() as u64,
            format!("the element <{}> is not closed", open.name),
        ));
    }
    root.ok_or_else(|| error_at(0, "the file holds no XML element".to_owned()))
}

fn start(
    e: &quick_xml::events::BytesStart<'_>,
    at: u64,
    error_at: &impl Fn(u64, String) -> XmlError,
) -> Result<Element, XmlError> {
    let mut attrs = BTreeMap::new();
    for a in e.attributes() {
        let a = a.map_err(|err| error_at(at, err.to_string()))?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| error_at(at, err.to_string()))?;
        attrs.insert(
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            value.into_owned(),
        );
    }
    Ok(Element {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attrs,
        text: String::new(),
        children: Vec::new(),
        offset: usize::try_from(at).unwrap_or(usize::MAX),
    })
}

/// The fields of an `XStream` object: each child element's text, read at `origin`.
pub(crate) fn fields_of(el: &Element, origin: &Origin) -> Fields {
    let mut fields = Fields::default();
    for c in &el.children {
        fields.insert(&c.name, Value::Text(c.text.clone()), origin.clone());
    }
    fields
}

/// What a job's `config.xml` holds for the migration.
#[derive(Debug)]
pub(crate) enum JobXml<'a> {
    /// The plugin's step element(s) (freestyle and other classic jobs), in document order.
    Step(Vec<&'a Element>),
    /// An inline pipeline script, and the line of `config.xml` it starts on.
    Script(&'a Element),
    /// A pipeline whose Jenkinsfile is in source control (`scriptPath`).
    ScmScript(Option<String>),
    /// Neither: the job does not use the plugin.
    Nothing,
}

/// Finds the plugin's step or the pipeline script in a job's `config.xml`.
pub(crate) fn job_xml(root: &Element) -> JobXml<'_> {
    let mut steps = Vec::new();
    root.find_all(STEP_CLASS, &mut steps);
    if !steps.is_empty() {
        return JobXml::Step(steps);
    }
    if let Some(def) = root.child("definition") {
        match def.attrs.get("class").map(String::as_str) {
            Some(INLINE_PIPELINE) => {
                if let Some(script) = def.child("script") {
                    return JobXml::Script(script);
                }
            }
            Some(SCM_PIPELINE) => {
                return JobXml::ScmScript(def.child("scriptPath").map(|p| p.text.clone()));
            }
            _ => {}
        }
    }
    JobXml::Nothing
}

/// The kind of each credential id in `credentials.xml`: `true` for the plugin's OAuth
/// credential (client id and secret), `false` for a username/password credential. Other
/// kinds are left out; nothing secret is read.
pub(crate) fn credential_kinds(root: &Element) -> BTreeMap<String, bool> {
    fn walk(el: &Element, f: &mut dyn FnMut(&Element)) {
        f(el);
        for c in &el.children {
            walk(c, f);
        }
    }
    let mut kinds = BTreeMap::new();
    let mut visit = |el: &Element| {
        let Some(id) = el.child("id").map(|i| i.text.trim().to_owned()) else {
            return;
        };
        if el.name.ends_with("OAuthCredential") {
            kinds.insert(id, true);
        } else if el.name.contains("UsernamePassword") {
            kinds.insert(id, false);
        }
    };
    walk(root, &mut visit);
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_text_entities_and_positions() {
        let text = "<?xml version='1.1' encoding='UTF-8'?>\n<root a=\"x&amp;y\">\n  <one>a &amp; b&#65;</one>\n  <two/>\n  <three><![CDATA[<raw>]]></three>\n</root>\n";
        let root = parse(text).unwrap();
        assert_eq!(root.name, "root");
        assert_eq!(root.attrs["a"], "x&y");
        let one = root.child("one").unwrap();
        assert_eq!(one.text, "a & bA");
        assert_eq!(line_col(text, one.offset), (3, 3));
        assert_eq!(root.child("two").unwrap().text, "");
        assert_eq!(root.child("three").unwrap().text, "<raw>");
    }

    #[test]
    fn broken_xml_says_where() {
        let e = parse("<a>\n  <b>\n</a>").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
        let e = parse("<a>\n<b>").unwrap_err();
        assert!(e.message.contains("not closed") || e.line >= 1, "{e:?}");
    }

    #[test]
    fn steps_scripts_and_credential_kinds() {
        let freestyle = format!(
            "<project><publishers><{STEP_CLASS} plugin=\"qualys-cs@1.8.0.5\"><imageIds>a</imageIds></{STEP_CLASS}></publishers></project>"
        );
        let root = parse(&freestyle).unwrap();
        assert!(matches!(job_xml(&root), JobXml::Step(s) if s.len() == 1));
        let pipeline = format!(
            "<flow-definition><definition class=\"{INLINE_PIPELINE}\"><script>node {{ }}</script></definition></flow-definition>"
        );
        let root = parse(&pipeline).unwrap();
        assert!(matches!(job_xml(&root), JobXml::Script(s) if s.text == "node { }"));
        let scm = format!(
            "<flow-definition><definition class=\"{SCM_PIPELINE}\"><scriptPath>ci/Jenkinsfile</scriptPath></definition></flow-definition>"
        );
        let root = parse(&scm).unwrap();
        assert!(matches!(job_xml(&root), JobXml::ScmScript(Some(p)) if p == "ci/Jenkinsfile"));
        let creds = "<list><com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl><id>basic-1</id><password>{AQAAAB}</password></com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl><com.qualys.plugins.containerSecurity.util.OAuthCredential><id>oauth-1</id></com.qualys.plugins.containerSecurity.util.OAuthCredential></list>";
        let kinds = credential_kinds(&parse(creds).unwrap());
        assert_eq!(kinds.get("basic-1"), Some(&false));
        assert_eq!(kinds.get("oauth-1"), Some(&true));
    }
}
