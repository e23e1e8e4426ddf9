//! The marker grammar: text to tokens (names, quoted strings, operators,
//! parentheses, each with its column) and tokens to an expression tree, by
//! recursive descent (`or` binds looser than `and`); errors name the column.

use super::{Expression, MarkerError, Operand, Operator, Variable};

/// The expression tree of a whole marker.
pub(super) fn expression(text: &str) -> Result<Expression, MarkerError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { text, tokens: &tokens, next: 0 };
    let expression = parser.disjunction()?;
    if let Some(token) = parser.peek() {
        return Err(parser.error_at(token.column, format!("unexpected {}", token.kind.describe())));
    }
    Ok(expression)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TokenKind {
    Open,
    Close,
    And,
    Or,
    Operator(Operator),
    Name(String),
    Text(String),
}

impl TokenKind {
    fn describe(&self) -> String {
        match self {
            TokenKind::Open => "`(`".into(),
            TokenKind::Close => "`)`".into(),
            TokenKind::And => "`and`".into(),
            TokenKind::Or => "`or`".into(),
            TokenKind::Operator(operator) => format!("`{}`", operator.symbol()),
            TokenKind::Name(name) => format!("`{name}`"),
            TokenKind::Text(text) => format!("string '{text}'"),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    /// 1-based character position.
    column: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, MarkerError> {
    let error = |column: usize, message: String| MarkerError { text: text.to_string(), column, message };
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let column = at + 1;
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        let kind = match c {
            '(' => {
                at += 1;
                TokenKind::Open
            }
            ')' => {
                at += 1;
                TokenKind::Close
            }
            '\'' | '"' => {
                let end = chars[at + 1..]
                    .iter()
                    .position(|&other| other == c)
                    .ok_or_else(|| error(column, "unterminated string".into()))?;
                let value: String = chars[at + 1..at + 1 + end].iter().collect();
                at += end + 2;
                TokenKind::Text(value)
            }
            '=' | '!' | '<' | '>' | '~' => {
                let run: String = chars[at..].iter().take_while(|c| matches!(c, '=' | '!' | '<' | '>' | '~')).collect();
                let operator = match run.as_str() {
                    "==" => Operator::Equal,
                    "!=" => Operator::NotEqual,
                    "<" => Operator::Less,
                    "<=" => Operator::LessEqual,
                    ">" => Operator::Greater,
                    ">=" => Operator::GreaterEqual,
                    "~=" => Operator::Compatible,
                    "===" => Operator::Arbitrary,
                    _ => return Err(error(column, format!("`{run}` is not a comparison operator"))),
                };
                at += run.chars().count();
                TokenKind::Operator(operator)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let word: String =
                    chars[at..].iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.')).collect();
                at += word.chars().count();
                match word.as_str() {
                    "and" => TokenKind::And,
                    "or" => TokenKind::Or,
                    "in" => TokenKind::Operator(Operator::In),
                    "not" => {
                        let rest: String = chars[at..].iter().collect();
                        let after_space = rest.trim_start();
                        let skipped = rest.chars().count() - after_space.chars().count();
                        let followed_by_in = after_space.starts_with("in")
                            && !after_space[2..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                        if skipped == 0 || !followed_by_in {
                            return Err(error(column, "`not` must be followed by `in`".into()));
                        }
                        at += skipped + 2;
                        TokenKind::Operator(Operator::NotIn)
                    }
                    _ => TokenKind::Name(word),
                }
            }
            other => return Err(error(column, format!("unexpected character `{other}`"))),
        };
        tokens.push(Token { kind, column });
    }
    Ok(tokens)
}

struct Parser<'a> {
    text: &'a str,
    tokens: &'a [Token],
    next: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn end_column(&self) -> usize {
        self.text.chars().count() + 1
    }

    fn error_at(&self, column: usize, message: String) -> MarkerError {
        MarkerError { text: self.text.to_string(), column, message }
    }

    /// `a or b or ...`: `or` binds loosest.
    fn disjunction(&mut self) -> Result<Expression, MarkerError> {
        self.joined(TokenKind::Or, Self::conjunction, Expression::Any)
    }

    /// `a and b and ...`.
    fn conjunction(&mut self) -> Result<Expression, MarkerError> {
        self.joined(TokenKind::And, Self::atom, Expression::All)
    }

    /// One or more `part`s joined by `by`; several become `combine(parts)`.
    fn joined(
        &mut self,
        by: TokenKind,
        part: fn(&mut Self) -> Result<Expression, MarkerError>,
        combine: fn(Vec<Expression>) -> Expression,
    ) -> Result<Expression, MarkerError> {
        let mut parts = vec![part(self)?];
        while self.peek().is_some_and(|token| token.kind == by) {
            self.next += 1;
            parts.push(part(self)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { combine(parts) })
    }

    fn atom(&mut self) -> Result<Expression, MarkerError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.error_at(self.end_column(), "expected a comparison, found the end".into()));
        };
        if token.kind == TokenKind::Open {
            self.next += 1;
            let inner = self.disjunction()?;
            match self.peek() {
                Some(close) if close.kind == TokenKind::Close => {
                    self.next += 1;
                    Ok(inner)
                }
                Some(other) => {
                    Err(self.error_at(other.column, format!("expected `)`, found {}", other.kind.describe())))
                }
                None => Err(self.error_at(self.end_column(), "expected `)`, found the end".into())),
            }
        } else {
            let left = self.operand()?;
            let operator = match self.peek().cloned() {
                Some(Token { kind: TokenKind::Operator(operator), .. }) => {
                    self.next += 1;
                    operator
                }
                Some(other) => {
                    return Err(
                        self.error_at(other.column, format!("expected an operator, found {}", other.kind.describe()))
                    );
                }
                None => return Err(self.error_at(self.end_column(), "expected an operator, found the end".into())),
            };
            let right = self.operand()?;
            if matches!((&left, &right), (Operand::Literal(_), Operand::Literal(_))) {
                return Err(self.error_at(token.column, "a comparison needs a marker variable on one side".into()));
            }
            Ok(Expression::Compare { left, operator, right })
        }
    }

    fn operand(&mut self) -> Result<Operand, MarkerError> {
        let Some(token) = self.peek().cloned() else {
            return Err(
                self.error_at(self.end_column(), "expected a marker variable or a quoted string, found the end".into())
            );
        };
        self.next += 1;
        match token.kind {
            TokenKind::Text(text) => Ok(Operand::Literal(text)),
            TokenKind::Name(name) => Variable::from_name(&name)
                .map(Operand::Variable)
                .ok_or_else(|| self.error_at(token.column, format!("`{name}` is not a marker variable"))),
            other => Err(self.error_at(
                token.column,
                format!("expected a marker variable or a quoted string, found {}", other.describe()),
            )),
        }
    }
}
