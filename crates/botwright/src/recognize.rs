//! TEMPORARY stand-in until the recognizers land (replaced by recognize/ on merge).
#![allow(missing_docs, unreachable_pub)]

pub fn parse_number(text: &str, _language: &str) -> Option<f64> {
    text.trim().parse().ok()
}

pub fn parse_confirm(text: &str, yes: &[String], no: &[String]) -> Option<bool> {
    let t = text.trim().to_lowercase();
    if yes.iter().any(|y| y.to_lowercase() == t) {
        Some(true)
    } else if no.iter().any(|n| n.to_lowercase() == t) {
        Some(false)
    } else {
        None
    }
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub synonyms: Vec<String>,
    pub action_title: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChoiceMatch {
    pub index: usize,
    pub value: String,
    pub score: f64,
}

pub fn match_choice(text: &str, choices: &[Choice], _language: &str) -> Option<ChoiceMatch> {
    let t = text.trim().to_lowercase();
    if let Ok(n) = t.parse::<usize>()
        && n >= 1
        && n <= choices.len()
    {
        return Some(ChoiceMatch { index: n - 1, value: choices[n - 1].value.clone(), score: 1.0 });
    }
    choices
        .iter()
        .enumerate()
        .find(|(_, c)| c.value.to_lowercase() == t || c.synonyms.iter().any(|s| s.to_lowercase() == t))
        .map(|(i, c)| ChoiceMatch { index: i, value: c.value.clone(), score: 1.0 })
}

#[derive(Debug, Clone)]
pub struct TimeMatch {
    pub value: chrono::DateTime<chrono::FixedOffset>,
}

pub fn parse_time(text: &str, _now: chrono::DateTime<chrono::FixedOffset>) -> Option<TimeMatch> {
    chrono::DateTime::parse_from_rfc3339(text.trim()).ok().map(|value| TimeMatch { value })
}
