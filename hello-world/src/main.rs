#[tokio::main]
async fn main() {
    println!("Hello, world!");
}
