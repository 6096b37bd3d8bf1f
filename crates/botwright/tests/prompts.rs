//! Transcript tests of every prompt type, retries, `max_retries` and custom retry prompts.

use botwright::activity::InputHint;
use botwright::activity::{Activity, ActivityType, Attachment};
use botwright::dialog::DialogResult;
use botwright::prompt::{FoundChoice, ListStyle};
use botwright::testing::TestFlow;
use botwright::{Bot, Prompt, Waterfall};
use serde_json::Value;

/// A bot that asks `prompt` and reports what came back.
fn asking(prompt: Prompt) -> TestFlow {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new()
            .step(move |s, _| {
                let prompt = prompt.clone();
                async move {
                    s.prompt(prompt);
                    Ok(())
                }
            })
            .step(|s, r: DialogResult| async move {
                let response = r.response.map(|v| v.to_string()).unwrap_or_else(|| "none".into());
                s.end_dialog_with_message(format!("{:?}: {response}", r.resumed));
                Ok(())
            }),
    );
    TestFlow::new(bot)
}

#[tokio::test]
async fn text_prompt_takes_any_text_and_retries_on_empty() {
    let mut flow = asking(Prompt::text("Your name?"));
    flow.user_says("hi").await;
    let question = flow.bot_says("Your name?").await;
    assert_eq!(question.input_hint, Some(InputHint::ExpectingInput));
    flow.user_says("   ").await;
    flow.bot_says("I didn't understand. Please try again.").await;
    flow.user_says("Ana María").await;
    flow.bot_says("Completed: \"Ana María\"").await;
}

#[tokio::test]
async fn text_prompt_checks_length() {
    let mut flow = asking(Prompt::text("Nickname?").min_length(3).max_length(5));
    flow.user_says("hi").await;
    flow.bot_says("Nickname?").await;
    flow.user_says("ab").await;
    flow.bot_says("The text you entered was shorter than the minimum allowed length of 3. Please try again.").await;
    flow.user_says("abcdef").await;
    flow.bot_says("The text you entered was longer than the maximum allowed length of 5. Please try again.").await;
    flow.user_says("abcd").await;
    flow.bot_says("Completed: \"abcd\"").await;
}

#[tokio::test]
async fn number_prompt_parses_digits_and_words() {
    let mut flow = asking(Prompt::number("How many?"));
    flow.user_says("hi").await;
    flow.bot_says("How many?").await;
    flow.user_says("lots").await;
    flow.bot_says("I didn't recognize that as a number. Please enter a number.").await;
    flow.user_says("twenty one").await;
    flow.bot_says("Completed: 21").await;

    let mut flow = asking(Prompt::number("Price?"));
    flow.user_says("hi").await;
    flow.bot_says("Price?").await;
    flow.user_says("3.5").await;
    flow.bot_says("Completed: 3.5").await;
}

#[tokio::test]
async fn number_prompt_checks_range_and_integers() {
    let mut flow = asking(Prompt::number("Rating?").min(1.0).max(5.0).integer_only());
    flow.user_says("hi").await;
    flow.bot_says("Rating?").await;
    flow.user_says("9").await;
    flow.bot_says("The number you entered was outside the allowed range of 1 to 5. Please enter a valid number.").await;
    flow.user_says("2.5").await;
    flow.bot_says("The number you entered was not an integer. Please enter a whole number.").await;
    flow.user_says("4").await;
    flow.bot_says("Completed: 4").await;

    let mut flow = asking(Prompt::number("Age?").min(18.0));
    flow.user_says("hi").await;
    flow.bot_says("Age?").await;
    flow.user_says("12").await;
    flow.bot_says("The number you entered was below the minimum allowed value of 18. Please enter a valid number.")
        .await;
}

#[tokio::test]
async fn confirm_prompt_offers_buttons_and_understands_yes_and_no() {
    let mut flow = asking(Prompt::confirm("Sure?"));
    flow.user_says("hi").await;
    flow.bot_says_with_actions("Sure?", &["Yes", "No"]).await;
    flow.user_says("maybe").await;
    flow.bot_says_with_actions("I didn't understand. Please answer 'yes' or 'no'.", &["Yes", "No"]).await;
    flow.user_says("nope").await;
    flow.bot_says("Completed: false").await;

    let mut flow = asking(Prompt::confirm("Sure?").list_style(ListStyle::None));
    flow.user_says("hi").await;
    let question = flow.bot_says("Sure?").await;
    assert!(question.suggested_actions.is_none());
    flow.user_says("Yes").await;
    flow.bot_says("Completed: true").await;
}

fn colors() -> Prompt {
    Prompt::choice(
        "Which color?",
        vec![botwright::prompt::ChoiceOption::new("red").synonyms(["crimson"]), "green".into(), "blue".into()],
    )
}

async fn choose(answer: &str) -> FoundChoice {
    let bot = Bot::builder().dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                s.prompt(colors());
                Ok(())
            })
            .step(|s, r| async move {
                let found: FoundChoice = r.response_as().expect("a found choice");
                s.end_dialog_with_message(serde_json::to_string(&found)?);
                Ok(())
            }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says_with_actions("Which color?", &["red", "green", "blue"]).await;
    flow.user_says(answer).await;
    let reply = flow.next_message().await;
    serde_json::from_str(reply.text()).unwrap_or_else(|_| panic!("{answer:?} was not recognized: {}", reply.text()))
}

#[tokio::test]
async fn choice_prompt_matches_value_synonym_number_and_ordinal() {
    assert_eq!(choose("green").await.index, 1);
    assert_eq!(choose("GREEN").await.value, "green");
    assert_eq!(choose("crimson").await.value, "red");
    assert_eq!(choose("3").await.value, "blue");
    assert_eq!(choose("the second one").await.value, "green");
}

#[tokio::test]
async fn choice_prompt_list_styles() {
    let mut flow = asking(colors().list_style(ListStyle::Inline));
    flow.user_says("hi").await;
    flow.bot_says("Which color? (1. red, 2. green, or 3. blue)").await;
    flow.user_says("purple").await;
    flow.bot_says("I didn't understand. Please choose an option from the list. (1. red, 2. green, or 3. blue)").await;

    let mut flow = asking(colors().list_style(ListStyle::List));
    flow.user_says("hi").await;
    flow.bot_says("Which color?\n\n   1. red\n   2. green\n   3. blue").await;

    let mut flow = asking(Prompt::choice("Two?", ["yes please", "no thanks"]).list_style(ListStyle::Inline));
    flow.user_says("hi").await;
    flow.bot_says("Two? (1. yes please or 2. no thanks)").await;

    let long: Vec<String> = (1..=12).map(|i| format!("option {i}")).collect();
    let mut flow = asking(Prompt::choice("Many?", long));
    flow.user_says("hi").await;
    let reply = flow.next_message().await;
    assert!(reply.suggested_actions.is_none(), "12 choices are listed, not buttons");
    assert!(reply.text().contains("12. option 12"));
}

#[tokio::test]
async fn time_prompt_understands_iso_and_relative_phrases() {
    let mut flow = asking(Prompt::time("When?"));
    flow.user_says("hi").await;
    flow.bot_says("When?").await;
    flow.user_says("whenever").await;
    flow.next_message().await;
    flow.user_says("2026-12-24 18:00").await;
    let reply = flow.next_message().await;
    assert!(reply.text().starts_with("Completed: \"2026-12-24T18:00:00"), "{}", reply.text());

    let mut flow = asking(Prompt::time("When?"));
    flow.user_says("hi").await;
    flow.bot_says("When?").await;
    let mut answer = flow.message("tomorrow at 5pm");
    answer.local_timestamp = Some("2026-11-26T10:00:00+01:00".into());
    flow.user_sends(answer).await.unwrap();
    flow.bot_says("Completed: \"2026-11-27T17:00:00+01:00\"").await;
}

#[tokio::test]
async fn attachment_prompt_filters_by_content_type() {
    let mut flow = asking(Prompt::attachment("Send a photo").content_types(["image/"]));
    flow.user_says("hi").await;
    flow.bot_says("Send a photo").await;
    flow.user_says("no photo").await;
    flow.bot_says("I didn't receive a file. Please try again.").await;
    let mut pdf = flow.message("");
    pdf.attachments.push(Attachment { content_type: "application/pdf".into(), ..Default::default() });
    flow.user_sends(pdf).await.unwrap();
    flow.bot_says("I didn't receive a file. Please try again.").await;
    let mut png = flow.message("");
    png.attachments.push(Attachment {
        content_type: "image/png".into(),
        content_url: Some("http://x/a.png".into()),
        ..Default::default()
    });
    flow.user_sends(png).await.unwrap();
    let reply = flow.next_message().await;
    let response: Value = serde_json::from_str(reply.text().trim_start_matches("Completed: ")).unwrap();
    assert_eq!(response[0]["contentType"], "image/png");
}

#[tokio::test]
async fn max_retries_ends_the_prompt_not_completed() {
    let mut flow = asking(Prompt::number("Number?").max_retries(2));
    flow.user_says("hi").await;
    flow.bot_says("Number?").await;
    flow.user_says("x").await;
    flow.bot_says("I didn't recognize that as a number. Please enter a number.").await;
    flow.user_says("y").await;
    flow.bot_says("I didn't recognize that as a number. Please enter a number.").await;
    flow.user_says("z").await;
    flow.bot_says("NotCompleted: none").await;

    let mut flow = asking(Prompt::number("Number?").max_retries(0));
    flow.user_says("hi").await;
    flow.bot_says("Number?").await;
    flow.user_says("x").await;
    flow.bot_says("NotCompleted: none").await;
}

#[tokio::test]
async fn custom_retry_prompt_replaces_the_built_in_one() {
    let mut flow = asking(Prompt::confirm("Proceed?").retry_prompt("Just yes or no, please."));
    flow.user_says("hi").await;
    flow.next_message().await;
    flow.user_says("hmm").await;
    flow.bot_says_with_actions("Just yes or no, please.", &["Yes", "No"]).await;
    flow.user_says("y").await;
    flow.bot_says("Completed: true").await;
}

#[tokio::test]
async fn prompts_speak_the_users_language() {
    let bot = Bot::builder()
        .dialog(
            "/",
            Waterfall::new()
                .step(|s, _| async move {
                    if let Some(locale) = s.message().text().strip_prefix("locale ") {
                        s.set_preferred_locale(locale.to_owned());
                    }
                    s.prompt(Prompt::confirm(botwright::text::Text::localized("ask")));
                    Ok(())
                })
                .step(|s, r| async move {
                    s.end_dialog_with_message(format!("{:?}", r.confirmed()));
                    Ok(())
                }),
        )
        .localizer({
            let mut l = botwright::locale::Localizer::new("en");
            l.add_message("en", "ask", "Continue?");
            l.add_message("es", "ask", "¿Continuar?");
            l
        });
    let mut flow = TestFlow::new(bot);
    flow.user_says("locale es").await;
    flow.bot_says_with_actions("¿Continuar?", &["Sí", "No"]).await;
    flow.user_says("quizás").await;
    let retry = flow.next_message().await;
    assert_ne!(retry.text(), "I didn't understand. Please answer 'yes' or 'no'.");
    assert!(retry.locale.as_deref() == Some("es"));
    flow.user_says("sí").await;
    flow.bot_says("Some(true)").await;
}

#[tokio::test]
async fn an_activity_that_is_not_text_reaches_the_prompt_too() {
    let mut flow = asking(Prompt::text("Say something"));
    flow.user_says("hi").await;
    flow.bot_says("Say something").await;
    let card_submit =
        Activity { kind: ActivityType::Message, value: Some(serde_json::json!({"x": 1})), ..Default::default() };
    flow.user_sends(card_submit).await.unwrap();
    flow.bot_says("I didn't understand. Please try again.").await;
}
