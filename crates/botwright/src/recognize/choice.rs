//! Picking one of a list of choices from a reply.

use serde::{Deserialize, Serialize};

use std::ops::Range;

use super::fold::{fold, folded};
use super::language::Language;
use super::number::parse_folded_number;
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
///      it is only an indefinite article ("une crème" is not the first choice) or an English
///      pronoun ("the big one"; "one", "number one" and "option one" are numbers). A word
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
    if folded.trim().is_empty() {
        return None;
    }
    let names = FoldedNames::new(choices);
    for kind in [NameKind::Value, NameKind::Other] {
        let exact = names.iter().find(|&(_, of_kind, name)| of_kind == kind && same_words(&folded, name));
        if let Some((index, _, _)) = exact {
            return Some(found(index, 1.0));
        }
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
    if let Some(index) = position(&folded, &names, choices.len(), language) {
        consider(index, 1.0);
    }
    for (index, choice_names) in names.by_choice(choices.len()) {
        let score = choice_names.map(|name| overlap(&folded, name)).fold(0.0, f64::max);
        if score >= MIN_PARTIAL_SCORE {
            consider(index, score);
        }
    }
    match best {
        Some((index, score)) if !tied => Some(found(index, score)),
        _ => None,
    }
}

/// Whether a name is a choice's value or one of its other names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Value,
    Other,
}

/// The names of all choices, folded once per reply into one buffer.
#[derive(Debug)]
struct FoldedNames {
    text: String,
    /// Choice index, kind, and the name's range in `text`, in choice order.
    names: Vec<(usize, NameKind, Range<usize>)>,
}

impl FoldedNames {
    fn new(choices: &[Choice]) -> Self {
        let mut text = String::new();
        let mut names = Vec::new();
        for (index, choice) in choices.iter().enumerate() {
            for (at, name) in choice.names().enumerate() {
                let start = text.len();
                text.extend(folded(name));
                let kind = if at == 0 { NameKind::Value } else { NameKind::Other };
                names.push((index, kind, start..text.len()));
            }
        }
        FoldedNames { text, names }
    }

    fn iter(&self) -> impl Iterator<Item = (usize, NameKind, &str)> {
        self.names.iter().map(|(index, kind, range)| (*index, *kind, &self.text[range.clone()]))
    }

    /// Each choice index with its names.
    fn by_choice(&self, len: usize) -> impl Iterator<Item = (usize, impl Iterator<Item = &str>)> {
        (0..len).map(move |index| (index, self.iter().filter(move |(of, _, _)| *of == index).map(|(_, _, name)| name)))
    }

    /// Whether a folded word of the reply is a word of some choice's names.
    fn contains_word(&self, word: &str) -> bool {
        self.iter().flat_map(|(_, _, name)| words(name)).any(|name_word| name_word == word)
    }
}

/// The words of a text: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = &str> + Clone {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty())
}

/// Whether the folded reply and a folded name have the same words (or, for names without
/// words such as an emoji, the same trimmed text).
fn same_words(folded: &str, name: &str) -> bool {
    let mut name_words = words(name).peekable();
    if name_words.peek().is_none() {
        return !name.trim().is_empty() && folded.trim() == name.trim();
    }
    words(folded).eq(name_words)
}

/// The share of a folded name's words found in the folded reply; a word said once matches
/// once.
fn overlap(folded: &str, name: &str) -> f64 {
    let name_words = words(name);
    let mut total = 0u32;
    let mut matched = 0u32;
    for (at, word) in name_words.clone().enumerate() {
        total += 1;
        let needed = name_words.clone().take(at + 1).filter(|other| *other == word).count();
        let said = words(folded).filter(|got| *got == word).take(needed).count();
        if said == needed {
            matched += 1;
        }
    }
    if total == 0 { 0.0 } else { f64::from(matched) / f64::from(total) }
}

/// Whether an English "one" in the reply is a pronoun ("the big one", "this one") rather than
/// a number ("one", "number one", "option one").
fn one_is_a_pronoun(folded: &str) -> bool {
    let mut previous = None;
    for word in words(folded) {
        if word == "one" && previous.is_some_and(|before| !matches!(before, "number" | "option" | "choice" | "no")) {
            return true;
        }
        previous = Some(word);
    }
    false
}

/// The index a reply names by position: one ordinal, or else one number.
fn position(folded: &str, names: &FoldedNames, len: usize, language: Language) -> Option<usize> {
    let mut ordinals = words(folded)
        .filter_map(|word| ordinal(word, language).filter(|_| !names.contains_word(word)))
        .map(|position| position.index(len));
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
        !names.contains_word(word)
    });
    if !in_choices_or_none || only_articles {
        return None;
    }
    if language == Language::English && one_is_a_pronoun(folded) {
        return None;
    }
    let number = parse_folded_number(folded, language)?;
    if number.fract() != 0.0 || number < 1.0 || number > len as f64 {
        return None;
    }
    Position::Nth(number as usize).index(len)
}

#[cfg(test)]
#[path = "choice_tests.rs"]
mod tests;
