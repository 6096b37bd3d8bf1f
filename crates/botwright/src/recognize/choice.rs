//! Picking one of a list of choices from a reply.

use serde::{Deserialize, Serialize};

use super::fold::{fold, folded_eq};
use super::language::Language;
use super::number::parse_number;
use super::number_words::{is_article, is_number_word};
use super::ordinal::{Position, ordinal};

/// The lowest score a partial match needs, as Bot Builder v3's `minScore`.
pub const MIN_PARTIAL_SCORE: f64 = 0.4;

/// One of the answers a choice prompt offers.
///
/// ```
/// use botwright::recognize::Choice;
///
/// let choice = Choice::new("Economy").with_synonyms(["coach", "cheap"]).with_action_title("Economy class");
/// assert_eq!(choice.value, "Economy");
/// assert_eq!(Choice::list("red|green|blue").len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Choice {
    /// The value the prompt returns, also matched against the reply.
    pub value: String,
    /// Other words or phrases that pick this choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// The title of the choice's button, when it differs from the value; it matches too, as
    /// some channels send the title back when the button is pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_title: Option<String>,
}

impl Choice {
    /// A choice with only a value.
    pub fn new(value: impl Into<String>) -> Self {
        Choice { value: value.into(), synonyms: Vec::new(), action_title: None }
    }

    /// Adds synonyms.
    pub fn with_synonyms<S: Into<String>>(mut self, synonyms: impl IntoIterator<Item = S>) -> Self {
        self.synonyms.extend(synonyms.into_iter().map(Into::into));
        self
    }

    /// Sets the button title.
    pub fn with_action_title(mut self, title: impl Into<String>) -> Self {
        self.action_title = Some(title.into());
        self
    }

    /// Choices from a `|`-separated list, as v3 accepted (`"red|green|blue"`); blank items are
    /// skipped and items are trimmed.
    pub fn list(values: &str) -> Vec<Choice> {
        values.split('|').map(str::trim).filter(|value| !value.is_empty()).map(Choice::new).collect()
    }

    /// The texts that name this choice: the value, the synonyms and the button title.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.value.as_str())
            .chain(self.synonyms.iter().map(String::as_str))
            .chain(self.action_title.as_deref())
    }
}

impl From<&str> for Choice {
    fn from(value: &str) -> Self {
        Choice::new(value)
    }
}

impl From<String> for Choice {
    fn from(value: String) -> Self {
        Choice::new(value)
    }
}

/// The choice a reply picked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceMatch {
    /// Its index in the list of choices, from 0.
    pub index: usize,
    /// Its value.
    pub value: String,
    /// How sure the match is, from [`MIN_PARTIAL_SCORE`] to 1.0.
    pub score: f64,
}

/// Finds the choice a reply picks, ignoring case, accents and punctuation.
///
/// In order:
/// 1. the reply is a choice's value (score 1.0; the first such choice if values repeat);
/// 2. the reply is one of a choice's synonyms or its button title (score 1.0, first such);
/// 3. otherwise every candidate is scored and the best wins:
///    - a position (score 1.0): an ordinal anywhere in the reply ("the second one", "last",
///      "2nd", "segundo", "zweite", "deuxième", "último"; English ordinals in every language),
///      or else the one number in the reply ("2", "two", "number 2"), counted from 1, unless
///      it is only an indefinite article ("une crème" is not the first choice). A word
///      that appears in the choices themselves is not read as a position ("first" with a
///      "First class" choice; "2" with "Plan 2"), nor are positions outside the list;
///    - a partial match: the share of a choice's words (value, synonyms or title, the best of
///      them) found in the reply, at least [`MIN_PARTIAL_SCORE`] ("green" gives
///      "green tea" 0.5).
///
/// Two different choices with the same best score is ambiguous: `None`, so that the prompt
/// asks again. So is a reply naming no choice, an empty reply or an empty list.
///
/// ```
/// use botwright::recognize::{Choice, match_choice};
///
/// let choices = Choice::list("Red|Green tea|Blue");
/// assert_eq!(match_choice("green tea", &choices, "en").map(|m| m.index), Some(1));
/// assert_eq!(match_choice("the last one", &choices, "en").map(|m| m.index), Some(2));
/// assert_eq!(match_choice("2", &choices, "en").map(|m| m.value), Some("Green tea".to_string()));
/// assert_eq!(match_choice("el primero", &choices, "es").map(|m| m.index), Some(0));
/// let partial = match_choice("just tea", &choices, "en").unwrap();
/// assert_eq!((partial.index, partial.score), (1, 0.5));
/// assert_eq!(match_choice("purple", &choices, "en"), None);
/// ```
pub fn match_choice(text: &str, choices: &[Choice], language: &str) -> Option<ChoiceMatch> {
    let found = |index: usize, score: f64| ChoiceMatch { index, value: choices[index].value.clone(), score };
    let folded = fold(text);
    if words(&folded).next().is_none() && folded.trim().is_empty() {
        return None;
    }
    if let Some(index) = choices.iter().position(|choice| same_words(&folded, &choice.value)) {
        return Some(found(index, 1.0));
    }
    if let Some(index) = choices.iter().position(|choice| choice.names().skip(1).any(|name| same_words(&folded, name)))
    {
        return Some(found(index, 1.0));
    }

    let language = Language::from_tag(language);
    let mut best: Option<(usize, f64)> = None;
    let mut tied = false;
    let mut consider = |index: usize, score: f64| match best {
        Some((best_index, best_score)) if score == best_score && index != best_index => tied = true,
        Some((_, best_score)) if score <= best_score => {}
        _ => {
            best = Some((index, score));
            tied = false;
        }
    };
    if let Some(index) = position(&folded, choices, language) {
        consider(index, 1.0);
    }
    for (index, choice) in choices.iter().enumerate() {
        let score = choice.names().map(|name| overlap(&folded, name)).fold(0.0, f64::max);
        if score >= MIN_PARTIAL_SCORE {
            consider(index, score);
        }
    }
    match best {
        Some((index, score)) if !tied => Some(found(index, score)),
        _ => None,
    }
}

/// The words of a text: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = &str> + Clone {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty())
}

/// Whether the folded reply and a choice name have the same words (or, for names without
/// words such as an emoji, the same trimmed text).
fn same_words(folded: &str, name: &str) -> bool {
    let mut name_words = words(name).peekable();
    if name_words.peek().is_none() {
        return !name.trim().is_empty() && folded_eq(folded.trim(), name.trim());
    }
    let mut reply_words = words(folded);
    loop {
        match (reply_words.next(), name_words.next()) {
            (None, None) => return true,
            (Some(got), Some(expected)) if folded_eq(got, expected) => {}
            _ => return false,
        }
    }
}

/// The share of a name's words found in the folded reply; a word said once matches once.
fn overlap(folded: &str, name: &str) -> f64 {
    let name_words = words(name);
    let mut total = 0u32;
    let mut matched = 0u32;
    for (at, word) in name_words.clone().enumerate() {
        total += 1;
        let needed = name_words.clone().take(at + 1).filter(|other| folded_eq(other, word)).count();
        let said = words(folded).filter(|got| folded_eq(got, word)).take(needed).count();
        if said == needed {
            matched += 1;
        }
    }
    if total == 0 { 0.0 } else { f64::from(matched) / f64::from(total) }
}

/// Whether a folded word of the reply also appears in some choice's names.
fn in_choices(word: &str, choices: &[Choice]) -> bool {
    choices.iter().flat_map(Choice::names).flat_map(words).any(|name_word| folded_eq(name_word, word))
}

/// The index a reply names by position: one ordinal, or else one number.
fn position(folded: &str, choices: &[Choice], language: Language) -> Option<usize> {
    let mut ordinals = words(folded)
        .filter_map(|word| ordinal(word, language).filter(|_| !in_choices(word, choices)))
        .map(|position| position.index(choices.len()));
    if let Some(first) = ordinals.next() {
        let first = first?;
        return ordinals.all(|other| other == Some(first)).then_some(first);
    }
    let mut number_words =
        words(folded).filter(|word| word.bytes().all(|b| b.is_ascii_digit()) || is_number_word(word, language));
    // Articles ("un", "une", "ein") alone are not positions; neither are words of the choices.
    let mut only_articles = true;
    let in_choices_or_none = number_words.all(|word| {
        only_articles &= is_article(word, language);
        !in_choices(word, choices)
    });
    if !in_choices_or_none || only_articles {
        return None;
    }
    let number = parse_number(folded, language_tag(language))?;
    if number.fract() != 0.0 || number < 1.0 || number > choices.len() as f64 {
        return None;
    }
    Position::Nth(number as usize).index(choices.len())
}

/// A tag that [`Language::from_tag`] reads back as `language`.
fn language_tag(language: Language) -> &'static str {
    match language {
        Language::English => "en",
        Language::Spanish => "es",
        Language::German => "de",
        Language::French => "fr",
        Language::Portuguese => "pt",
    }
}

#[cfg(test)]
#[path = "choice_tests.rs"]
mod tests;
