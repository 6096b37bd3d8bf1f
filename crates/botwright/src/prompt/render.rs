//! How a prompt's question is shown: choices inline, as a list, or as buttons.

use super::{ListStyle, Prompt, PromptKind};
use crate::activity::CardAction;
use crate::activity::InputHint;
use crate::message::Message;
use crate::session::Session;
use crate::text::Text;

/// The captions of a prompt's choices (a confirm prompt's are the localized Yes / No).
pub(crate) fn choice_titles(prompt: &Prompt, session: &Session) -> Vec<String> {
    match prompt.kind {
        PromptKind::Confirm => {
            let locale = session.locale();
            vec![session.localizer().text(&locale, "confirm_yes"), session.localizer().text(&locale, "confirm_no")]
        }
        PromptKind::Choice => {
            prompt.choices.iter().map(|c| c.title.clone().unwrap_or_else(|| c.value.clone())).collect()
        }
        _ => Vec::new(),
    }
}

fn effective_style(style: ListStyle, titles: &[String]) -> ListStyle {
    match style {
        ListStyle::Auto if titles.len() <= 10 && titles.iter().all(|t| t.chars().count() <= 20) => ListStyle::Button,
        ListStyle::Auto => ListStyle::List,
        other => other,
    }
}

/// "1. red, 2. green, or 3. blue" with the locale's separators.
fn inline_list(titles: &[String], session: &Session) -> String {
    let locale = session.locale();
    let or = session.localizer().text(&locale, "list_or");
    let or_more = session.localizer().text(&locale, "list_or_more");
    let numbered: Vec<String> = titles.iter().enumerate().map(|(i, t)| format!("{}. {t}", i + 1)).collect();
    match numbered.len() {
        0 => String::new(),
        1 => numbered[0].clone(),
        2 => format!("{}{or}{}", numbered[0], numbered[1]),
        n => format!("{}{or_more}{}", numbered[..n - 1].join(", "), numbered[n - 1]),
    }
}

/// The question (or a retry message) with the prompt's choices shown as its list style says.
pub(crate) fn with_choices(prompt: &Prompt, session: &Session, mut message: Message) -> Message {
    message = message.input_hint(InputHint::ExpectingInput);
    let titles = choice_titles(prompt, session);
    if titles.is_empty() {
        return message;
    }
    let style = effective_style(prompt.list_style, &titles);
    let locale = session.locale();
    let resolve = |m: &Message| m.text_ref().map(|t| t.resolve(session.localizer(), &locale)).unwrap_or_default();
    match style {
        ListStyle::None | ListStyle::Auto => message,
        ListStyle::Button => {
            message.suggested_actions(titles.iter().map(|t| CardAction::im_back(t.clone(), t.clone())))
        }
        ListStyle::Inline => {
            let text = format!("{} ({})", resolve(&message), inline_list(&titles, session));
            message.text(Text::plain(text))
        }
        ListStyle::List => {
            let mut text = resolve(&message);
            text.push_str("\n\n");
            for (i, t) in titles.iter().enumerate() {
                text.push_str(&format!("   {}. {t}\n", i + 1));
            }
            message.text(Text::plain(text.trim_end().to_owned()))
        }
    }
}
