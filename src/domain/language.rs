//! The languages the pages speak, and which one a browser asks for.
//! Codes, numbers of cells and times are never translated; words are.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::invalid::Invalid;

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
pub enum Language {
    #[default]
    #[serde(rename = "en")]
    En,
    /// Simplified Chinese, as read in mainland China.
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::ZhCn];

    /// The BCP 47 tag: `en`, `zh-CN`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::ZhCn => "zh-CN",
        }
    }

    /// The language's own name for itself, as a chooser shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::ZhCn => "中文",
        }
    }

    /// A tag as a person or a browser writes it: `en`, `en-GB`, `zh`,
    /// `zh-CN`, `zh-Hans`, `zh-Hans-CN`, in any case. Traditional Chinese
    /// (`zh-TW`, `zh-Hant`) is not Simplified Chinese and is not matched.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split('-');
        match parts.next()? {
            "en" => Some(Language::En),
            "zh" => {
                let rest: Vec<&str> = parts.collect();
                let traditional = rest
                    .iter()
                    .any(|p| matches!(*p, "hant" | "tw" | "hk" | "mo"));
                (!traditional).then_some(Language::ZhCn)
            }
            _ => None,
        }
    }

    /// A language chosen through the API: exactly `en` or `zh-CN`.
    pub fn parse(raw: &str) -> Result<Language, Invalid> {
        Language::ALL
            .into_iter()
            .find(|l| l.tag() == raw)
            .ok_or_else(|| Invalid::new("language", "choose en (English) or zh-CN (简体中文)"))
    }

    /// The language a browser's `Accept-Language` prefers among ours, by
    /// its weights (`zh-CN,zh;q=0.9,en;q=0.8`); `None` when it names none.
    pub fn from_accept_language(header: &str) -> Option<Language> {
        let mut best: Option<(Language, u32)> = None;
        for item in header.split(',') {
            let mut pieces = item.split(';');
            let Some(language) = pieces.next().and_then(Language::from_tag) else {
                continue;
            };
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .map(|q| (q * 1000.0).round() as u32)
                })
                .unwrap_or(0);
            // of equal weights, the one named first
            if weight > 0 && best.is_none_or(|(_, w)| weight > w) {
                best = Some((language, weight));
            }
        }
        best.map(|(language, _)| language)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_as_browsers_and_people_write_them() {
        for tag in ["zh", "zh-CN", "ZH-cn", "zh-Hans", "zh-Hans-CN", "zh_CN"] {
            assert_eq!(Language::from_tag(tag), Some(Language::ZhCn), "{tag}");
        }
        for tag in ["en", "en-GB", "EN-us"] {
            assert_eq!(Language::from_tag(tag), Some(Language::En), "{tag}");
        }
        for tag in ["zh-TW", "zh-Hant", "zh-HK", "fr", "", "*"] {
            assert_eq!(Language::from_tag(tag), None, "{tag}");
        }
    }

    #[test]
    fn accept_language_is_read_by_its_weights() {
        let pick = Language::from_accept_language;
        assert_eq!(pick("zh-CN,zh;q=0.9,en;q=0.8"), Some(Language::ZhCn));
        assert_eq!(pick("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Language::En));
        assert_eq!(
            pick("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4"),
            Some(Language::ZhCn)
        );
        assert_eq!(pick("en;q=0.2, zh-Hans;q=0.7"), Some(Language::ZhCn));
        assert_eq!(pick("zh-TW,fr"), None);
        assert_eq!(pick("zh;q=0,en;q=0"), None);
        assert_eq!(pick("zh;q=abc"), None);
        assert_eq!(pick(""), None);
        // equal weights: the first named
        assert_eq!(pick("en,zh"), Some(Language::En));
        assert_eq!(pick("zh,en"), Some(Language::ZhCn));
    }

    #[test]
    fn the_api_takes_exactly_the_two_tags() {
        assert_eq!(Language::parse("zh-CN"), Ok(Language::ZhCn));
        assert_eq!(Language::parse("en"), Ok(Language::En));
        for bad in ["zh", "EN", "fr", ""] {
            assert_eq!(Language::parse(bad).unwrap_err().field, "language");
        }
    }
}
