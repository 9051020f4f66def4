//! A small SMTP server for the tests, on 127.0.0.1: it speaks enough SMTP
//! for lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps every
//! message it receives, so tests assert on real deliveries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Received {
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parseable message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn text(&self) -> String {
        self.parsed().body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parsed().body_html(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    /// The first link to this site in the text part.
    pub fn link(&self, base: &str) -> String {
        let text = self.text();
        let start = text
            .find(base)
            .unwrap_or_else(|| panic!("no link to {base} in:\n{text}"));
        text[start..].split_whitespace().next().unwrap_or_default().to_owned()
    }
}

#[derive(Clone, Default)]
pub struct MailServer {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    /// While set, a message is kept (it is in the inbox) but its "250 OK"
    /// waits: the sender is stuck in the middle of a send.
    held: Arc<std::sync::atomic::AtomicBool>,
    /// Recipients refused at RCPT TO, with the reply line (e.g.
    /// "550 5.1.1 no such user"), and how often each was tried.
    refusals: Arc<Mutex<Vec<(String, String, usize)>>>,
}

impl MailServer {
    pub async fn start() -> MailServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let port = listener.local_addr().expect("addr").port();
        let server = MailServer {
            port,
            ..MailServer::default()
        };
        let (inbox, held, refusals) = (server.inbox.clone(), server.held.clone(), server.refusals.clone());
        actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (inbox, held, refusals) = (inbox.clone(), held.clone(), refusals.clone());
                actix_web::rt::spawn(async move {
                    let _ = session(stream, inbox, held, refusals).await;
                });
            }
        });
        server
    }

    /// From now on, each message is received but not acknowledged until
    /// [`MailServer::release`].
    pub fn hold(&self) {
        self.held.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// From now on, `address` is refused at RCPT TO with `reply` (a full
    /// SMTP reply line: "550 5.1.1 no such user", "451 4.3.0 try later").
    pub fn refuse(&self, address: &str, reply: &str) {
        self.refusals
            .lock()
            .expect("refusals")
            .push((address.to_owned(), reply.to_owned(), 0));
    }

    /// How often a refused address was tried.
    pub fn refused_tries(&self, address: &str) -> usize {
        self.refusals
            .lock()
            .expect("refusals")
            .iter()
            .filter(|(a, _, _)| a == address)
            .map(|(_, _, n)| *n)
            .sum()
    }

    pub fn release(&self) {
        self.held.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().expect("inbox").clone()
    }

    /// Waits (up to 10 s) until at least `count` messages arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} email(s), got {}", self.received().len());
    }

    /// Messages to one address.
    pub async fn wait_for_mail_to(&self, address: &str) -> Received {
        for _ in 0..200 {
            if let Some(found) = self
                .received()
                .into_iter()
                .find(|m| m.recipients.iter().any(|r| r == address))
            {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no email to {address}; got {:?}",
            self.received().iter().map(|m| &m.recipients).collect::<Vec<_>>()
        );
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    inbox: Arc<Mutex<Vec<Received>>>,
    held: Arc<std::sync::atomic::AtomicBool>,
    refusals: Arc<Mutex<Vec<(String, String, usize)>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 practika-test ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") || command.starts_with("HELO") {
            write
                .write_all(b"250-practika-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if command.starts_with("MAIL FROM") {
            recipients.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            let refusal = {
                let mut refusals = refusals.lock().expect("refusals");
                refusals.iter_mut().find(|(a, _, _)| *a == address).map(|entry| {
                    entry.2 += 1;
                    entry.1.clone()
                })
            };
            match refusal {
                Some(reply) => write.write_all(format!("{reply}\r\n").as_bytes()).await?,
                None => {
                    recipients.push(address);
                    write.write_all(b"250 OK\r\n").await?;
                }
            }
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut raw = Vec::new();
            loop {
                let mut data_line = String::new();
                if lines.read_line(&mut data_line).await? == 0 {
                    return Ok(());
                }
                if data_line == ".\r\n" || data_line == ".\n" {
                    break;
                }
                let unstuffed = data_line
                    .strip_prefix('.')
                    .filter(|_| data_line.starts_with(".."))
                    .unwrap_or(&data_line);
                raw.extend_from_slice(unstuffed.as_bytes());
            }
            inbox.lock().expect("inbox").push(Received {
                recipients: recipients.clone(),
                raw,
            });
            while held.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            write.write_all(b"250 OK queued\r\n").await?;
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            // RSET, NOOP and anything else.
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}
