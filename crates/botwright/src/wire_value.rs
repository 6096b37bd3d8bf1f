//! Enumerated values of the activity schema: [`InputHint`], [`TextFormat`], [`AttachmentLayout`]
//! and [`ActionType`]. Each serializes exactly as the Bot Framework writes it, and a value this
//! version does not know is kept as it came (`Other`), so that it survives a round trip.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A value this version does not know, kept as it came.
            Other(String),
        }

        impl $name {
            /// The value as it is written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => $name::$variant, )*
                    _ => $name::Other(value),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}

wire_enum! {
    /// Whether the bot expects an answer to a message (`inputHint`).
    ///
    /// ```
    /// use botwright::activity::InputHint;
    /// assert_eq!(InputHint::from("expectingInput"), InputHint::ExpectingInput);
    /// assert_eq!(InputHint::from("somethingNew").as_str(), "somethingNew");
    /// ```
    InputHint {
        /// The bot is ready for input but does not wait for it.
        AcceptingInput = "acceptingInput",
        /// The bot is not ready for input (more messages follow).
        IgnoringInput = "ignoringInput",
        /// The bot waits for an answer (a prompt).
        ExpectingInput = "expectingInput",
    }
}

wire_enum! {
    /// How a message's text is formatted (`textFormat`).
    TextFormat {
        /// Markdown (the default of most channels).
        Markdown = "markdown",
        /// Plain text.
        Plain = "plain",
        /// XML (SSML and some channels' markup).
        Xml = "xml",
    }
}

wire_enum! {
    /// How a message's attachments are laid out (`attachmentLayout`).
    AttachmentLayout {
        /// One below the other.
        List = "list",
        /// Side by side, scrolled horizontally.
        Carousel = "carousel",
    }
}

wire_enum! {
    /// What a card button does (`CardAction.type`).
    ActionType {
        /// Sends its value to the bot as a message the user appears to have typed.
        ImBack = "imBack",
        /// Sends a message with text, display text and a value.
        MessageBack = "messageBack",
        /// Sends its value to the bot without showing it in the chat.
        PostBack = "postBack",
        /// Opens a URL.
        OpenUrl = "openUrl",
        /// Places a call.
        Call = "call",
        /// Shows an image.
        ShowImage = "showImage",
        /// Downloads a file.
        DownloadFile = "downloadFile",
        /// Plays audio.
        PlayAudio = "playAudio",
        /// Plays video.
        PlayVideo = "playVideo",
        /// Starts a sign-in.
        Signin = "signin",
    }
}

impl Default for ActionType {
    /// No type given (an empty string on the wire).
    fn default() -> Self {
        ActionType::Other(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known values read as their variant and are written back the same; unknown ones survive.
    #[test]
    fn values_round_trip_known_or_not() {
        for text in ["\"expectingInput\"", "\"acceptingInput\"", "\"aNewHint\""] {
            let hint: InputHint = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&hint).unwrap(), text);
        }
        assert_eq!(serde_json::from_str::<ActionType>("\"imBack\"").unwrap(), ActionType::ImBack);
        assert_eq!(serde_json::from_str::<TextFormat>("\"xml\"").unwrap(), TextFormat::Xml);
        assert_eq!(AttachmentLayout::from("grid"), AttachmentLayout::Other("grid".into()));
        assert_eq!(ActionType::default().as_str(), "");
        assert!(InputHint::IgnoringInput == "ignoringInput");
    }
}
